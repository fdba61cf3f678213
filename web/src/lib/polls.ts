/**
 * The poll as the web app shows it. Issue 4 owns the API shape (shared/polls.ts); `toPollView` is the one
 * place that maps it, so a change there is a change here only.
 */
import type { PollStatus } from '$shared/polls.ts';

export type QuestionView = { id: string; text: string; kind: 'single' | 'multi'; maxChoices: number; required: boolean; options: { id: string; label: string }[] };
export type PollView = {
  id: number;
  title: string;
  description: string;
  status: PollStatus;
  opensAt: string | null;
  closesAt: string | null;
  /** when voting actually ended (an early close ends before closesAt) */
  closedAt: string | null;
  points: number;
  questions: QuestionView[];
  voted: boolean;
  /** null when anonymous or unknown */
  eligible: boolean | null;
  publicResults: boolean;
  publicLive: boolean;
  audience: { districts: string[]; minAge: number | null; maxAge: number | null };
};

type Loose = Record<string, unknown>;
const str = (v: unknown, d = '') => (typeof v === 'string' ? v : d);
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** Accepts `GET /api/polls/:id`'s `{poll, voted, eligible, results}` or a bare poll / list item. */
export function toPollView(raw: unknown): PollView {
  const wrap = (raw ?? {}) as Loose;
  const p = (wrap.poll && typeof wrap.poll === 'object' ? wrap.poll : wrap) as Loose;
  const audience = (p.audience ?? p.targeting ?? {}) as Loose;
  const questions = Array.isArray(p.questions) ? (p.questions as Loose[]) : [];
  return {
    id: Number(p.id),
    title: str(p.title),
    description: str(p.description),
    status: str(p.status, 'draft') as PollStatus,
    opensAt: str(p.opensAt) || null,
    closesAt: str(p.closesAt) || null,
    closedAt: str(p.closedAt) || null,
    points: num(p.points) ?? 0,
    voted: Boolean(wrap.voted ?? p.voted),
    eligible: typeof (wrap.eligible ?? p.eligible) === 'boolean' ? Boolean(wrap.eligible ?? p.eligible) : null,
    publicResults: p.publicResults !== false,
    publicLive: p.publicLive === true,
    questions: questions.map((q, i) => ({
      id: str(q.id, String(i)),
      text: str(q.text ?? q.title),
      kind: q.kind === 'multi' || q.kind === 'multiple' ? 'multi' : 'single',
      maxChoices: num(q.maxChoices) ?? (q.kind === 'single' ? 1 : Array.isArray(q.options) ? q.options.length : 1),
      required: q.required !== false,
      options: (Array.isArray(q.options) ? (q.options as Loose[]) : []).map((o, j) => ({ id: str(o.id, String(j)), label: str(o.label ?? o.text) })),
    })),
    audience: {
      districts: Array.isArray(audience.districts) ? (audience.districts as string[]) : [],
      minAge: num(audience.minAge),
      maxAge: num(audience.maxAge),
    },
  };
}

export function toPollList(raw: unknown): PollView[] {
  const list = Array.isArray(raw) ? raw : ((raw as Loose | null)?.polls ?? (raw as Loose | null)?.items ?? []);
  return (list as unknown[]).map(toPollView);
}

/** `POST /api/polls/:id/ballots` body from the chosen option ids per question. */
export function ballotBody(answers: Record<string, string[]>): { answers: Record<string, string[]> } {
  const out: Record<string, string[]> = {};
  for (const [q, opts] of Object.entries(answers)) if (opts.length) out[q] = opts;
  return { answers: out };
}

/** What is wrong with the answer to one question (a translation key), or null. */
export function answerIssue(q: QuestionView, chosen: string[] | undefined): 'poll.pickOne' | 'poll.pickSome' | 'poll.tooMany' | null {
  const n = chosen?.length ?? 0;
  if (n === 0) return q.required ? (q.kind === 'single' ? 'poll.pickOne' : 'poll.pickSome') : null;
  if (q.kind === 'single' && n > 1) return 'poll.pickOne';
  if (q.kind === 'multi' && n > q.maxChoices) return 'poll.tooMany';
  return null;
}

export const FEED_TABS = ['active', 'upcoming', 'results'] as const;
export type FeedTab = (typeof FEED_TABS)[number];
/** The feed tab → `GET /api/polls?status=…` filter. */
export const feedStatus = (tab: FeedTab) => (tab === 'results' ? 'closed' : tab);
