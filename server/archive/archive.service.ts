import { createHash } from 'node:crypto';
import { AppError } from '../errors.ts';
import type { ArchiveItem, ArchivePage, ArchiveQuery } from '../../shared/archive.ts';
import type { Poll, PollFinal, PollListItem, PollListQuery, PollResults } from '../../shared/polls.ts';
import type { User } from '../../shared/users.ts';
import type { DecisionService } from '../decisions/decision.service.ts';
import { archiveShowsResults, assertOpenData, isStaff, totalsShown } from '../polls/poll.access.ts';
import { resultsCsv } from './results-csv.ts';
import { isDbUnavailable } from '../db/db-errors.ts';
import { endedAt, type ArchiveStore } from './archive.store.ts';
import type { ArchiveSync } from './archive.sync.ts';

/** What the archive needs of the polls domain (its poll service, feed and ballots satisfy it). */
export type ArchivePollSource = {
  get(pollId: number): Promise<Poll | null>;
  getFinal(pollId: number): Promise<PollFinal | null>;
};
export type ArchiveFeed = { list(user: User | null, q: PollListQuery): Promise<PollListItem[]> };
export type ArchiveResults = { results(pollId: number): Promise<PollResults> };

/** What the feed's substring search looks in: title, description, every question and option text (lower case). */
const searchText = (p: Pick<PollListItem, 'title' | 'description' | 'questions'>) =>
  [p.title, p.description, ...p.questions.flatMap((q) => [q.text, ...q.options.map((o) => o.label)])].join('\n').toLocaleLowerCase('ru');

/** Polls the feed hands the archive (the most recent closed/finalised ones). */
export const ARCHIVE_SCAN_LIMIT = 1000;

/** A poll on an archive page: from the PostgreSQL archive (with its snapshot) or from the feed. */
type Entry = { poll: Poll | PollListItem; final: PollFinal | null };
const newestFirst = (a: Entry | PollListItem, b: Entry | PollListItem) => {
  const pa = 'poll' in a ? a.poll : a;
  const pb = 'poll' in b ? b.poll : b;
  return Date.parse(endedAt(pb)) - Date.parse(endedAt(pa)) || pb.id - pa.id;
};

export type OpenData = { body: string; etag: string; lastModified: string };

/**
 * The public archive (closed and finalised polls with results, breakdowns, decisions and deadlines)
 * and the open-data exports of finalised snapshots. Read-only; anonymous visibility rules.
 */
export function createArchiveService(deps: {
  polls: ArchivePollSource;
  feed: ArchiveFeed;
  ballots: ArchiveResults;
  decisions: Pick<DecisionService, 'viewsOf'>;
  /** The PostgreSQL archive; null without DATABASE_URL. `isReady`: its schema is migrated. */
  store: ArchiveStore | null;
  isReady: () => boolean;
  sync?: Pick<ArchiveSync, 'enqueue'>;
  /** Fewer ballots than this: totals are not published (poll.access.ts totalsShown). */
  minGroup: number;
}) {
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
  /**
   * The PostgreSQL share of a page, merged with the feed's remainder `rest` (small: polls not archived yet).
   * Each remainder entry's place in the merged order is its index among `rest` plus the archive rows that
   * sort before it, so the archive is read from the right offset instead of from the first row.
   * null: no archive (not configured, not migrated yet, or unreachable).
   */
  async function fromArchive(q: ArchiveQuery, fed: PollListItem[], matches: (p: PollListItem) => boolean, start: number, publicOnly: boolean) {
    if (!deps.store || !deps.isReady()) return null;
    try {
      const archived = await deps.store.archived(fed.map((p) => p.id));
      const missing = fed.filter((p) => !archived.has(p.id));
      const finalisedMissing = missing.filter((p) => p.status === 'finalised').map((p) => p.id);
      if (finalisedMissing.length) await deps.sync?.enqueue(finalisedMissing).catch(() => {});
      const rest = missing.filter(matches).sort(newestFirst);
      const ahead = await deps.store.before(q.q, { publicOnly }, rest.map((p) => ({ endedAt: endedAt(p), id: p.id })));
      const merged = rest.map((_, i) => i + ahead[i]!); // each remainder entry's index in the merged order
      const restBefore = merged.filter((m) => m < start).length;
      const found = await deps.store.search(q.q, { publicOnly, offset: start - restBefore, limit: q.pageSize });
      const entries: Entry[] = found.items.map(({ poll, final }) => ({ poll, final }));
      return { entries, total: found.total, rest, restFrom: restBefore };
    } catch (err) {
      if (!isDbUnavailable(err)) throw err;
      return null;
    }
  }
  const tag = (s: string) => `"${createHash('sha256').update(s).digest('base64url').slice(0, 27)}"`;

  return {
    /**
     * `GET /api/archive`: ended polls, the most recently ended first, paged. Finalised polls come from the
     * PostgreSQL archive (Russian full text over titles, descriptions, questions and options, or a
     * substring of any of them); polls ended but not in it yet (closed and awaiting finalisation,
     * or finalised while PostgreSQL was down) come from the in-process feed, matched by substring, and the
     * finalised ones among them are handed to the archive sweep. Without PostgreSQL (not configured or
     * unreachable) the feed alone answers, as far back as ARCHIVE_SCAN_LIMIT polls. Anonymous visibility
     * unless the viewer reads every poll (moderators, officials, admins: city hall must find every poll it
     * has to answer, targeted and non-public ones included).
     */
    async search(q: ArchiveQuery, at = Date.now(), viewer: User | null = null): Promise<ArchivePage> {
      const reader = isStaff(viewer);
      const fed = await feed.list(reader ? viewer : null, { status: 'closed', limit: ARCHIVE_SCAN_LIMIT });
      const needle = q.q.toLocaleLowerCase('ru');
      const matches = (p: PollListItem) => !needle || searchText(p).includes(needle);
      const start = (q.page - 1) * q.pageSize;
      const got = (await fromArchive(q, fed, matches, start, !reader)) ?? { entries: [], total: 0, rest: fed.filter(matches).sort(newestFirst), restFrom: start };
      // the window's candidates: the next pageSize of each stream from where the window starts in it
      const rest: Entry[] = got.rest.slice(got.restFrom, got.restFrom + q.pageSize).map((p) => ({ poll: p, final: null }));
      const page = [...got.entries, ...rest].sort(newestFirst).slice(0, q.pageSize);
      const [views, results] = await Promise.all([
        decisions.viewsOf(page.map((e) => e.poll), at),
        Promise.all(
          page.map(async ({ poll: p, final }) => {
            if (!archiveShowsResults(p, viewer)) return null;
            const f = final ?? (p.status === 'finalised' ? await polls.getFinal(p.id) : null);
            const r = f ? f.results : await ballots.results(p.id);
            return totalsShown(viewer, r.ballots, minGroup) ? r : null;
          }),
        ),
      ]);
      const items: ArchiveItem[] = page.map(({ poll: p }, i) => {
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
      return { items, page: q.page, pageSize: q.pageSize, total: got.total + got.rest.length };
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
