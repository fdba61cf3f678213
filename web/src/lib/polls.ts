/**
 * The web's few additions to the polls contract (shared/values/polls.ts, zod-free): the ballot body,
 * the translation key of an answer's issue, and the feed tabs.
 */
import { answerIssues, type BallotQuestion } from '$shared/values/polls.ts';

/** `POST /api/polls/:id/ballots` body from the chosen option ids per question. */
export function ballotBody(answers: Record<string, string[]>): { answers: Record<string, string[]> } {
  const out: Record<string, string[]> = {};
  for (const [q, opts] of Object.entries(answers)) if (opts.length) out[q] = opts;
  return { answers: out };
}

export type AnswerIssueKey = 'poll.pickOne' | 'poll.pickSome' | 'poll.tooMany';

/** The translation key of what is wrong with one answer (the shared rule decides), or null. */
export function answerIssueKey(q: BallotQuestion, chosen: string[] | undefined): AnswerIssueKey | null {
  const issue = answerIssues(q, chosen)[0];
  if (!issue) return null;
  if (issue.code === 'too_many') return 'poll.tooMany';
  if (issue.code === 'required' && q.kind === 'multi') return 'poll.pickSome';
  return 'poll.pickOne';
}

export const FEED_TABS = ['active', 'upcoming', 'results'] as const;
export type FeedTab = (typeof FEED_TABS)[number];
/** The feed tab → `GET /api/polls?status=…` filter. */
export const feedStatus = (tab: FeedTab) => (tab === 'results' ? 'closed' : tab);
