import type { PollResults, PollStatus } from '../../shared/polls.ts';
import type { TallyFrame } from '../../shared/socket.ts';
import { AppError } from '../errors.ts';

/** What live results need of a poll (the polls domain's `Poll` satisfies it). */
export type LivePoll = {
  id: number;
  status: PollStatus;
  /** Projector view: anonymous viewers may watch live results while the poll is open. */
  publicLive?: boolean;
  /** Closed results visible to everyone (default) or only to voters and staff. */
  publicResults?: boolean;
};

/** The narrow slice of PollService live results depend on (ctx.polls satisfies it). */
export type LivePollSource = {
  get(pollId: number): Promise<LivePoll | null>;
  hasVoted(pollId: number, userId: number): Promise<boolean>;
  results(pollId: number): Promise<PollResults>;
  /** One Redis round trip for all ids; a missing poll reads as 0. */
  tallyVersions(pollIds: number[]): Promise<number[]>;
};

export type Viewer = { userId: number | null; roles: readonly string[] };

const STAFF = new Set(['moderator', 'official', 'admin']);
export const isStaff = (v: Viewer) => v.roles.some((r) => STAFF.has(r));

/**
 * The results-visibility rule (as Active Citizen does it):
 * - moderators, officials, admins: always;
 * - a signed-in resident: after voting, or once the poll is closed/finalised (unless its closed results
 *   are not public, then voters only);
 * - anonymous (the projector view): while open only if the poll is marked public-live; once
 *   closed/finalised if its results are public.
 */
export function canSeeResults(poll: LivePoll, viewer: Viewer, voted: boolean): boolean {
  if (isStaff(viewer)) return true;
  const over = poll.status === 'closed' || poll.status === 'finalised';
  if (viewer.userId !== null) {
    if (voted) return true;
    return over && poll.publicResults !== false;
  }
  if (over) return poll.publicResults !== false;
  return poll.status === 'active' && poll.publicLive === true;
}

export function tallyFrame(results: PollResults): TallyFrame {
  return { pollId: results.pollId, results, participants: results.ballots };
}

/** Access decisions and snapshots for watchers; knows nothing of sockets. */
export function createLiveService(polls: LivePollSource) {
  return {
    /** May this viewer watch the poll, and see its results now? Drafts exist only for staff. */
    async access(pollId: number, viewer: Viewer): Promise<{ status: PollStatus; canSeeResults: boolean }> {
      const poll = await polls.get(pollId);
      if (!poll || (poll.status === 'draft' && !isStaff(viewer))) throw new AppError('not_found', `No poll ${pollId}`);
      const voted = viewer.userId !== null && !isStaff(viewer) ? await polls.hasVoted(pollId, viewer.userId) : false;
      return { status: poll.status, canSeeResults: canSeeResults(poll, viewer, voted) };
    },
    async snapshot(pollId: number): Promise<TallyFrame> {
      return tallyFrame(await polls.results(pollId));
    },
  };
}
export type LiveService = ReturnType<typeof createLiveService>;
