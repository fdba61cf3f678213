/**
 * Zod-free half of the polls contract: constants, pure rules and the API types (type-only re-exports,
 * erased at build). The web imports from here at no bundle cost; shared/polls.ts holds the schemas.
 */
export type { Audience, Poll, PollCreate, PollDefinition, PollFinal, PollListItem, PollListQuery, PollQuestion, PollRate, PollResults, PollView, BallotReceipt } from '../polls.ts';

export const POLL_STATUSES = ['draft', 'scheduled', 'active', 'closed', 'finalised'] as const;
export type PollStatus = (typeof POLL_STATUSES)[number];

/** Age bands used by targeting breakdowns. */
export const AGE_BANDS = ['under18', '18-24', '25-34', '35-44', '45-54', '55-64', '65plus'] as const;
export type AgeBand = (typeof AGE_BANDS)[number];

export const QUESTION_KINDS = ['single', 'multi'] as const;
export type QuestionKind = (typeof QUESTION_KINDS)[number];
export const MAX_QUESTIONS = 50;
export const MIN_OPTIONS = 2;
export const MAX_OPTIONS = 20;
/** Sharding a hot poll by user id: shard = userId mod S. */
export const MAX_SHARDS = 64;

/** `GET /api/polls?status=…` (staff may also ask for `draft`). */
export const POLL_LIST_FILTERS = ['active', 'upcoming', 'closed', 'draft'] as const;

type AudienceShape = { districts: readonly string[]; minAge: number | null; maxAge: number | null };
/** Empty districts and no ages = city-wide (anyone signed in). */
export const isTargeted = (a: AudienceShape) => a.districts.length > 0 || a.minAge !== null || a.maxAge !== null;

/** What publishing needs beyond a valid draft (checked against the clock at publish time). */
export function publishIssues(d: { opensAt: string | null; closesAt: string | null }, nowMs: number): { path: string; message: string }[] {
  const out: { path: string; message: string }[] = [];
  if (!d.opensAt) out.push({ path: 'opensAt', message: 'opensAt is required to publish' });
  if (!d.closesAt) out.push({ path: 'closesAt', message: 'closesAt is required to publish' });
  if (d.opensAt && d.closesAt && Date.parse(d.closesAt) <= Date.parse(d.opensAt))
    out.push({ path: 'closesAt', message: 'closesAt must be after opensAt' });
  if (d.closesAt && Date.parse(d.closesAt) <= nowMs) out.push({ path: 'closesAt', message: 'closesAt is in the past' });
  return out;
}

/** What a ballot rule reads of a question. */
export type BallotQuestion = { id: string; kind: QuestionKind; maxChoices: number; required: boolean; options: readonly { id: string }[] };

/** Why one answer is not acceptable: `required` (nothing chosen), `one_only`, `too_many`, `unknown_option`, `duplicate`. */
export type AnswerIssueCode = 'required' | 'one_only' | 'too_many' | 'unknown_option' | 'duplicate';
export type BallotIssue = { path: string; code: AnswerIssueCode | 'unknown_question'; message: string };

/** The issues of one question's answer (empty = acceptable): the rule the server enforces and the web explains. */
export function answerIssues(q: BallotQuestion, chosen: readonly string[] | undefined): BallotIssue[] {
  const path = `answers.${q.id}`;
  if (!chosen || chosen.length === 0) return q.required ? [{ path, code: 'required', message: `question "${q.id}" is required` }] : [];
  const out: BallotIssue[] = [];
  const known = new Set(q.options.map((o) => o.id));
  const seen = new Set<string>();
  for (const oid of chosen) {
    if (!known.has(oid)) out.push({ path, code: 'unknown_option', message: `unknown option "${oid}" for question "${q.id}"` });
    else if (seen.has(oid)) out.push({ path, code: 'duplicate', message: `option "${oid}" chosen twice` });
    seen.add(oid);
  }
  if (q.kind === 'single' && chosen.length > 1) out.push({ path, code: 'one_only', message: `question "${q.id}" takes exactly one choice` });
  if (q.kind === 'multi' && chosen.length > q.maxChoices) out.push({ path, code: 'too_many', message: `question "${q.id}" takes at most ${q.maxChoices} choices` });
  return out;
}

/**
 * The ballot checked against the poll's questions (pure): known questions and options, no duplicates,
 * single → exactly one, multi → 1..maxChoices, required questions answered. Empty = valid.
 */
export function ballotIssues(questions: readonly BallotQuestion[], answers: Record<string, readonly string[]>): BallotIssue[] {
  const out: BallotIssue[] = [];
  const byId = new Set(questions.map((q) => q.id));
  for (const qid of Object.keys(answers)) {
    if (!byId.has(qid)) out.push({ path: `answers.${qid}`, code: 'unknown_question', message: `unknown question "${qid}"` });
  }
  for (const q of questions) out.push(...answerIssues(q, Object.hasOwn(answers, q.id) ? answers[q.id] : undefined));
  return out;
}

/** Age band of a birth year in a given year (birth year only: the age this year). */
export function ageBandOf(birthYear: number | null, year: number): AgeBand | 'unknown' {
  if (!birthYear) return 'unknown';
  const age = year - birthYear;
  if (age < 18) return 'under18';
  if (age < 25) return '18-24';
  if (age < 35) return '25-34';
  if (age < 45) return '35-44';
  if (age < 55) return '45-54';
  if (age < 65) return '55-64';
  return '65plus';
}

/** Where a browser keeps its ballot's receipt (localStorage): written after voting, read by the integrity page. */
export const receiptStorageKey = (pollId: number) => `ac:receipt:${pollId}`;
