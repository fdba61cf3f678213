import type { PollStatus } from '../../shared/polls.ts';
import type { TallyFrame } from '../../shared/socket.ts';
import type { User } from '../../shared/users.ts';
import type { PollViews } from '../polls/poll.views.ts';
import type { BallotService } from '../ballots/ballot.service.ts';

export type LiveServiceDeps = {
  /** The one access decision, the same as HTTP's (poll.access.ts). */
  views: Pick<PollViews, 'access' | 'eligibleResidents'>;
  ballots: Pick<BallotService, 'results' | 'tallyVersions'>;
};

export function tallyFrame(results: TallyFrame['results']): TallyFrame {
  return { pollId: results.pollId, results, participants: results.ballots };
}

/** Access decisions and snapshots for watchers; knows nothing of sockets. */
export function createLiveService({ views, ballots }: LiveServiceDeps) {
  return {
    /** May this viewer watch the poll (404 as over HTTP), and see its results now? */
    async access(pollId: number, user: User | null): Promise<{ status: PollStatus; canSeeResults: boolean; withheld: { minGroup: number } | null; eligibleResidents: number | null }> {
      const a = await views.access(pollId, user);
      return { status: a.poll.status, canSeeResults: a.canSeeResults, withheld: a.withheld, eligibleResidents: await views.eligibleResidents(a.poll, user) };
    },
    /** Whether this viewer may see the poll's results now (re-checked when a socket's user changes). */
    async canSeeResults(pollId: number, user: User | null): Promise<boolean> {
      return (await views.access(pollId, user)).canSeeResults;
    },
    async snapshot(pollId: number): Promise<TallyFrame> {
      return tallyFrame(await ballots.results(pollId));
    },
    versions: (pollIds: number[]) => ballots.tallyVersions(pollIds),
    results: (pollId: number) => ballots.results(pollId),
  };
}
export type LiveService = ReturnType<typeof createLiveService>;
