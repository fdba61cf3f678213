/**
 * The poll builder's form ⇄ `POST /api/polls` body. Field names: title, description, points, opensAt,
 * closesAt (datetime-local, city time), minAge, maxAge, district (repeated), q<i>.text, q<i>.kind,
 * q<i>.o<j> — so the same parser serves the no-JS form and the enhanced one.
 */
import type { Key } from './i18n/index.ts';

export type DraftQuestion = { text: string; kind: 'single' | 'multi'; options: string[] };
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
    questions: [{ text: '', kind: 'single', options: ['', ''] }],
  };
}

export function draftFromForm(form: FormData): Draft {
  const s = (k: string) => String(form.get(k) ?? '');
  const questions: DraftQuestion[] = [];
  for (let i = 0; i < 50 && form.has(`q${i}.text`); i++) {
    const options: string[] = [];
    for (let j = 0; j < 20 && form.has(`q${i}.o${j}`); j++) options.push(s(`q${i}.o${j}`));
    questions.push({ text: s(`q${i}.text`), kind: s(`q${i}.kind`) === 'multi' ? 'multi' : 'single', options });
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

/** Client-side checks (translated); the server re-validates everything. */
export function draftIssues(d: Draft): Partial<Record<'title' | 'questions' | 'closesAt', Key>> {
  const out: Partial<Record<'title' | 'questions' | 'closesAt', Key>> = {};
  if (d.title.trim().length < 3) out.title = 'builder.needTitle';
  const qs = d.questions.filter((q) => q.text.trim());
  if (!qs.length || qs.some((q) => q.options.filter((o) => o.trim()).length < 2)) out.questions = 'builder.needQuestion';
  const o = fromLocalInput(d.opensAt);
  const c = fromLocalInput(d.closesAt);
  if (!o || !c || Date.parse(c) <= Date.parse(o)) out.closesAt = 'builder.badSchedule';
  return out;
}

/** The API body (PollCreate in shared/polls.ts): ids q1…, o1… in order; empty rows dropped. */
export function draftToBody(d: Draft) {
  const age = (v: string) => (v.trim() === '' ? null : Number(v));
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
        required: true,
        options: q.options.filter((o) => o.trim()).map((o, j) => ({ id: `o${j + 1}`, label: o.trim() })),
      })),
  };
}
