import { AppError } from '../errors.ts';
import type { User } from '../../shared/users.ts';
import type { Poll, PollListItem, PollListQuery, PollResults, PollStatus, PollView } from '../../shared/polls.ts';
import type { BallotService } from '../ballots/ballot.service.ts';
import type { Electorate } from '../representativeness/electorate.ts';
import type { PollCache } from './poll.cache.ts';
import type { PollRow, PollStore } from './poll.store.ts';
import { assertVisible, canSeeResults, ineligibility, inFeed, isStaff, totalsShown } from './poll.access.ts';
import { toPoll } from './poll-status.ts';

/** Polls the feed considers (the most recent ones). */
const FEED_SCAN = 1000;

export type PollViewsDeps = {
  cache: Pick<PollCache, 'row' | 'rows'>;
  store: Pick<PollStore, 'ids'>;
  ballots: Pick<BallotService, 'hasVoted' | 'votedMany' | 'visibleResults'>;
  /** The anonymity threshold (RESULTS_MIN_GROUP_SIZE): totals too are withheld from non-staff below it. */
  minGroup: number;
  /** The turnout's base (staff views): absent, it is reported as null. */
  electorate?: Pick<Electorate, 'count'>;
  now?: () => number;
};

/**
 * One viewer's access to one poll, decided by poll.access.ts. `withheld`: the results would be visible
 * but too few ballots are in (`minGroup` is the count they appear at); `results`: read when visible.
 */
export type PollAccess = {
  row: PollRow;
  poll: Poll;
  voted: boolean | null;
  eligible: boolean | null;
  canSeeResults: boolean;
  withheld: { minGroup: number } | null;
  results: PollResults | null;
};

/**
 * What a viewer (null = anonymous) may read of polls: one poll, its results, the feed. HTTP and the
 * socket's poll:watch both come through `access`, so they always agree.
 */
export function createPollViews(deps: PollViewsDeps) {
  const { cache, store, ballots } = deps;
  const now = deps.now ?? Date.now;

  const views = {
    /** 404 for a missing poll or (for non-staff) a draft; otherwise what this viewer may see of it. */
    async access(pollId: number, user: User | null): Promise<PollAccess> {
      const row = await cache.row(pollId);
      const poll = row ? toPoll(row, now()) : null;
      assertVisible(poll, user);
      const voted = user && row!.state !== 'draft' ? await ballots.hasVoted(pollId, user.id) : user ? false : null;
      const eligible = user ? ineligibility(row!.def, user, new Date(now()).getUTCFullYear()) === null : null;
      const base = { row: row!, poll, voted, eligible };
      if (!canSeeResults(poll, user, !!voted)) return { ...base, canSeeResults: false, withheld: null, results: null };
      // a draft has no ballots (staff only): its page shows the definition only
      if (row!.state === 'draft') return { ...base, canSeeResults: true, withheld: null, results: null };
      const results = await ballots.visibleResults(row!);
      if (!totalsShown(user, results.ballots, deps.minGroup)) return { ...base, canSeeResults: false, withheld: { minGroup: deps.minGroup }, results: null };
      return { ...base, canSeeResults: true, withheld: null, results };
    },

    /** Staff only (null for anyone else): registered residents who may vote in the poll (the dashboard's turnout base). */
    async eligibleResidents(poll: Poll, user: User | null): Promise<number | null> {
      return isStaff(user) && deps.electorate ? deps.electorate.count(poll, now()) : null;
    },

    /** `GET /api/polls/:id`. */
    async view(pollId: number, user: User | null): Promise<PollView> {
      const a = await views.access(pollId, user);
      return { poll: a.poll, voted: a.voted, eligible: a.eligible, results: a.results, withheld: a.withheld, eligibleResidents: await views.eligibleResidents(a.poll, user) };
    },

    /** `GET /api/polls/:id/results`: 403 while this viewer may not see them. */
    async resultsFor(pollId: number, user: User | null): Promise<PollResults> {
      const a = await views.access(pollId, user);
      if (a.withheld) throw new AppError('forbidden', `Too few votes to show yet: results appear from ${a.withheld.minGroup} ballots`, a.withheld);
      if (!a.canSeeResults) throw new AppError('forbidden', 'Results are shown once you have voted or the poll has closed');
      return a.results ?? ballots.visibleResults(a.row);
    },

    /** The feed: the FEED_SCAN most recent polls of the wanted status that are in the viewer's feed. */
    async list(user: User | null, q: PollListQuery): Promise<PollListItem[]> {
      if (q.status === 'draft' && !isStaff(user)) throw new AppError('forbidden', 'Requires role: moderator, official or admin');
      const ids = await store.ids(FEED_SCAN);
      const rows = (await cache.rows(ids)).filter((r): r is PollRow => !!r);
      const t = now();
      const want: PollStatus[] = q.status === 'active' ? ['active'] : q.status === 'upcoming' ? ['scheduled'] : q.status === 'closed' ? ['closed', 'finalised'] : ['draft'];
      const picked = rows.map((row) => ({ row, poll: toPoll(row, t) })).filter(({ poll }) => want.includes(poll.status) && inFeed(poll, user));
      const by = (f: (p: Poll) => string | null, dir: 1 | -1) => (a: { poll: Poll }, b: { poll: Poll }) =>
        dir * ((f(a.poll) ?? '').localeCompare(f(b.poll) ?? '') || a.poll.id - b.poll.id);
      picked.sort(
        q.status === 'active' ? by((p) => p.closesAt, 1) : q.status === 'upcoming' ? by((p) => p.opensAt, 1) : q.status === 'closed' ? by((p) => p.closesAt, -1) : by((p) => p.updatedAt, -1),
      );
      const page = picked.slice(0, q.limit);
      const voted = user ? await ballots.votedMany(page.map(({ row }) => row), user.id) : null;
      return page.map(({ row, poll }) => ({ ...poll, voted: voted ? (row.state === 'draft' ? false : (voted.get(row.id) ?? false)) : null }));
    },
  };
  return views;
}
export type PollViews = ReturnType<typeof createPollViews>;
