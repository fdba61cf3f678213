import { createHash } from 'node:crypto';
import { AppError } from '../errors.ts';
import type { ArchiveItem, ArchivePage, ArchiveQuery } from '../../shared/archive.ts';
import type { Poll, PollFinal, PollListItem, PollListQuery, PollResults } from '../../shared/polls.ts';
import type { User } from '../../shared/users.ts';
import type { DecisionService } from '../decisions/decision.service.ts';
import { archiveShowsResults, assertOpenData, isStaff, totalsShown } from '../polls/poll.access.ts';
import { resultsCsv } from './results-csv.ts';

/** What the archive needs of the polls domain (its poll service, feed and ballots satisfy it). */
export type ArchivePollSource = {
  get(pollId: number): Promise<Poll | null>;
  getFinal(pollId: number): Promise<PollFinal | null>;
};
export type ArchiveFeed = { list(user: User | null, q: PollListQuery): Promise<PollListItem[]> };
export type ArchiveResults = { results(pollId: number): Promise<PollResults> };

/** What the archive search looks in: title, description, every question and option text (lower case). */
const searchText = (p: Pick<PollListItem, 'title' | 'description' | 'questions'>) =>
  [p.title, p.description, ...p.questions.flatMap((q) => [q.text, ...q.options.map((o) => o.label)])].join('\n').toLocaleLowerCase('ru');

/** Polls the archive considers (the most recent closed/finalised ones the feed returns). */
export const ARCHIVE_SCAN_LIMIT = 1000;

export type OpenData = { body: string; etag: string; lastModified: string };

/**
 * The public archive (closed and finalised polls with results, breakdowns, decisions and deadlines)
 * and the open-data exports of finalised snapshots. Read-only; anonymous visibility rules.
 */
export function createArchiveService(deps: { polls: ArchivePollSource; feed: ArchiveFeed; ballots: ArchiveResults; decisions: Pick<DecisionService, 'viewsOf'>; minGroup: number }) {
  const { polls, feed, ballots, decisions, minGroup } = deps;

  async function finalOr4xx(pollId: number): Promise<{ poll: Poll; final: PollFinal }> {
    const poll = await polls.get(pollId);
    assertOpenData(poll);
    // The snapshot is written once (SET NX) before the poll's state flips to finalised: once it exists it
    // is the final word, so it is served even in the instant before the state change lands.
    const final = await polls.getFinal(pollId);
    // exports are anonymous: the totals rule applies (a handful of ballots would single out choices)
    if (final && !totalsShown(null, final.results.ballots, minGroup)) throw new AppError('forbidden', `Too few votes to publish: results appear from ${minGroup} ballots`, { minGroup });
    if (final) return { poll, final };
    if (poll.status !== 'finalised') {
      throw new AppError('invalid_state', `Open data is published once the poll is finalised (this one is ${poll.status})`, { status: poll.status });
    }
    throw new AppError('invalid_state', 'The poll is being finalised; try again shortly', { status: poll.status });
  }
  const tag = (s: string) => `"${createHash('sha256').update(s).digest('base64url').slice(0, 27)}"`;

  return {
    /**
     * `GET /api/archive`: a case-insensitive substring search over title, description, question and
     * option texts of the most
     * recent ARCHIVE_SCAN_LIMIT closed polls, the most recently ended first, paged. Anonymous visibility
     * (city-wide or public-results polls) unless the viewer reads every poll (moderators, officials,
     * admins: city hall must find every poll it has to answer, targeted and non-public ones included).
     */
    async search(q: ArchiveQuery, at = Date.now(), viewer: User | null = null): Promise<ArchivePage> {
      const reader = isStaff(viewer);
      const all = await feed.list(reader ? viewer : null, { status: 'closed', limit: ARCHIVE_SCAN_LIMIT });
      // newest first by when voting actually ended (an early close ends before closesAt)
      const ended = (p: PollListItem) => Date.parse(p.closedAt ?? p.closesAt ?? p.updatedAt);
      all.sort((a, b) => ended(b) - ended(a) || b.id - a.id);
      const needle = q.q.toLocaleLowerCase('ru');
      const hits = needle ? all.filter((p) => searchText(p).includes(needle)) : all;
      const page = hits.slice((q.page - 1) * q.pageSize, q.page * q.pageSize);
      const [views, results] = await Promise.all([
        decisions.viewsOf(page, at),
        Promise.all(
          page.map(async (p) => {
            if (!archiveShowsResults(p, viewer)) return null;
            const f = p.status === 'finalised' ? await polls.getFinal(p.id) : null;
            const r = f ? f.results : await ballots.results(p.id);
            return totalsShown(viewer, r.ballots, minGroup) ? r : null;
          }),
        ),
      ]);
      const items: ArchiveItem[] = page.map((p, i) => {
        const v = views[i];
        return {
          pollId: p.id,
          title: p.title,
          description: p.description,
          status: p.status as 'closed' | 'finalised',
          closesAt: p.closesAt,
          closedAt: p.closedAt,
          finalisedAt: p.finalisedAt,
          results: results[i],
          decision: v.decision,
          answerDeadline: v.answerDeadline,
          overdue: v.overdue,
          workingDaysLeft: v.workingDaysLeft,
          answeredLate: v.answeredLate,
        };
      });
      return { items, page: q.page, pageSize: q.pageSize, total: hits.length };
    },

    /**
     * `GET /api/polls/:id/results.json`: the finalised snapshot as stored, plus `poll`: the title and the
     * question and option texts its ids refer to (the definition cannot change once published).
     */
    async resultsJson(pollId: number): Promise<OpenData> {
      const { poll, final } = await finalOr4xx(pollId);
      const texts = {
        id: poll.id,
        title: poll.title,
        questions: poll.questions.map((q) => ({ id: q.id, text: q.text, kind: q.kind, options: q.options.map((o) => ({ id: o.id, label: o.label })) })),
      };
      const body = JSON.stringify({ ...final, poll: texts });
      return { body, etag: tag(body), lastModified: new Date(final.finalisedAt).toUTCString() };
    },

    /** `GET /api/polls/:id/results.csv`: the same snapshot as CSV, with question and option texts. */
    async resultsCsv(pollId: number): Promise<OpenData> {
      const { poll, final } = await finalOr4xx(pollId);
      const body = resultsCsv(poll, final);
      return { body, etag: tag(body), lastModified: new Date(final.finalisedAt).toUTCString() };
    },
  };
}
export type ArchiveService = ReturnType<typeof createArchiveService>;
