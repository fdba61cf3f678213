/**
 * The poll builder's form ⇄ `POST /api/polls` / `PATCH /api/polls/:id` body. Field names: title,
 * description, points, opensAt, closesAt (datetime-local, city time), minAge, maxAge, district
 * (repeated), publicLive, q<i>.text, q<i>.kind, q<i>.max, q<i>.optional, q<i>.o<j> — so the same parser
 * serves the no-JS form and the enhanced one.
 */
import type { Key } from './i18n/index.ts';
import type { Poll } from '$shared/values/polls.ts';

/** `max`: the most choices of a multi-choice question ('' = as many as there are options). */
export type DraftQuestion = { text: string; kind: 'single' | 'multi'; max: string; optional: boolean; options: string[] };
export type Draft = {
  title: string;
  description: string;
  points: string;
  opensAt: string;
  closesAt: string;
  minAge: string;
  maxAge: string;
  districts: string[];
  /** live results for everyone (projector view) while the poll runs */
  publicLive: boolean;
  /** publish the anonymised ballot ledger at finalisation (off for a sensitive poll) */
  publicLedger: boolean;
  questions: DraftQuestion[];
};

/** A form value as text: a bound number input gives a number (or null when empty). */
const text = (v: unknown) => (v === null || v === undefined ? '' : String(v));

/** The city's offset (Moscow, no DST): datetime-local values are read and shown in city time. */
export const CITY_OFFSET = '+03:00';
const CITY_OFFSET_MS = 3 * 3600_000;

export function toLocalInput(ms: number): string {
  return new Date(ms + CITY_OFFSET_MS).toISOString().slice(0, 16);
}
export function fromLocalInput(v: string): string | null {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/.test(v)) return null;
  const ms = Date.parse(`${v}:00${CITY_OFFSET}`);
  return Number.isNaN(ms) ? null : new Date(ms).toISOString();
}

export function emptyDraft(now: number): Draft {
  return {
    title: '',
    description: '',
    points: '10',
    opensAt: toLocalInput(now),
    closesAt: toLocalInput(now + 7 * 86400_000),
    minAge: '',
    maxAge: '',
    districts: [],
    publicLive: false,
    publicLedger: true,
    questions: [newQuestion()],
  };
}

export const newQuestion = (): DraftQuestion => ({ text: '', kind: 'single', max: '', optional: false, options: ['', ''] });

/** A stored poll back in the builder (editing a draft, or a copy of any poll with a fresh schedule). */
export function pollToDraft(p: Poll, now: number, copy = false): Draft {
  const opens = p.opensAt ? Date.parse(p.opensAt) : now;
  const closes = p.closesAt ? Date.parse(p.closesAt) : now + 7 * 86400_000;
  // a copy (or a draft whose time passed) gets the same duration starting now
  const stale = copy || closes <= now;
  const start = stale ? now : opens;
  return {
    title: copy ? `${p.title} (2)`.slice(0, 200) : p.title,
    description: p.description,
    points: String(p.points),
    opensAt: toLocalInput(start),
    closesAt: toLocalInput(stale ? now + Math.max(closes - opens, 3600_000) : closes),
    minAge: p.audience.minAge === null ? '' : String(p.audience.minAge),
    maxAge: p.audience.maxAge === null ? '' : String(p.audience.maxAge),
    districts: [...p.audience.districts],
    publicLive: p.publicLive,
    publicLedger: p.publicLedger,
    questions: p.questions.map((q) => ({
      text: q.text,
      kind: q.kind,
      max: q.kind === 'multi' && q.maxChoices < q.options.length ? String(q.maxChoices) : '',
      optional: !q.required,
      options: q.options.map((o) => o.label),
    })),
  };
}

/** Move item `i` of a list by `by` places (reordering questions and options); out of range is a no-op. */
export function move<T>(list: T[], i: number, by: -1 | 1): void {
  const j = i + by;
  if (j < 0 || j >= list.length) return;
  [list[i], list[j]] = [list[j], list[i]];
}

export function draftFromForm(form: FormData): Draft {
  const s = (k: string) => String(form.get(k) ?? '');
  const questions: DraftQuestion[] = [];
  for (let i = 0; i < 50 && form.has(`q${i}.text`); i++) {
    const options: string[] = [];
    for (let j = 0; j < 20 && form.has(`q${i}.o${j}`); j++) options.push(s(`q${i}.o${j}`));
    questions.push({ text: s(`q${i}.text`), kind: s(`q${i}.kind`) === 'multi' ? 'multi' : 'single', max: s(`q${i}.max`), optional: form.get(`q${i}.optional`) === 'on', options });
  }
  return {
    title: s('title'),
    description: s('description'),
    points: s('points'),
    opensAt: s('opensAt'),
    closesAt: s('closesAt'),
    minAge: s('minAge'),
    maxAge: s('maxAge'),
    districts: form.getAll('district').map(String),
    publicLive: form.get('publicLive') === 'on',
    publicLedger: form.get('publicLedger') === 'on',
    questions,
  };
}

/**
 * What is wrong, per field id of the form (`title`, `q<i>-text`, `q<i>-o0`, `q<i>-max`, `closesAt`), as
 * translation keys, in the form's order (the first one gets the focus). The server re-validates all.
 */
export function draftIssues(d: Draft): Record<string, Key> {
  const out: Record<string, Key> = {};
  if (d.title.trim().length < 3) out.title = 'builder.needTitle';
  if (!d.questions.some((q) => q.text.trim())) out['q0-text'] = 'builder.needQuestion';
  d.questions.forEach((q, i) => {
    const filled = q.options.filter((o) => o.trim()).length;
    if (!q.text.trim() && (filled > 0 || i === 0)) out[`q${i}-text`] ??= 'builder.needQuestionText';
    if (q.text.trim() && filled < 2) out[`q${i}-o0`] = 'builder.needOptions';
    const max = text(q.max).trim();
    if (q.kind === 'multi' && max !== '' && !(Number.isInteger(Number(max)) && Number(max) >= 1 && Number(max) <= Math.max(1, filled)))
      out[`q${i}-max`] = 'builder.badMax';
  });
  const o = fromLocalInput(d.opensAt);
  const c = fromLocalInput(d.closesAt);
  if (!o || !c || Date.parse(c) <= Date.parse(o)) out.closesAt = 'builder.badSchedule';
  return out;
}

/** The API body (PollCreate in shared/polls.ts): ids q1…, o1… in order; empty rows dropped. */
export function draftToBody(d: Draft) {
  const age = (v: unknown) => (text(v).trim() === '' ? null : Number(v));
  return {
    title: d.title.trim(),
    description: d.description.trim(),
    points: Number(d.points) || 0,
    opensAt: fromLocalInput(d.opensAt),
    closesAt: fromLocalInput(d.closesAt),
    audience: { districts: d.districts, minAge: age(d.minAge), maxAge: age(d.maxAge) },
    publicLive: d.publicLive,
    publicLedger: d.publicLedger,
    questions: d.questions
      .filter((q) => q.text.trim())
      .map((q, i) => ({
        id: `q${i + 1}`,
        text: q.text.trim(),
        kind: q.kind,
        ...(q.kind === 'multi' && text(q.max).trim() ? { maxChoices: Number(q.max) } : {}),
        required: !q.optional,
        options: q.options.filter((o) => o.trim()).map((o, j) => ({ id: `o${j + 1}`, label: o.trim() })),
      })),
  };
}
