import { UnrecoverableError } from 'bullmq';
import { pointsAwardJob, reconcileRedemptionsJob } from '../../shared/jobs.ts';
import { parseJob, type JobHandlers } from '../jobs/job-data.ts';
import type { PollService } from '../polls/poll.service.ts';
import type { BallotService } from '../ballots/ballot.service.ts';
import type { UserStore } from '../users/user.store.ts';
import type { RewardService } from '../rewards/reward.service.ts';
import type { PointsService } from './points.service.ts';

export type PointsJobDeps = {
  polls: Pick<PollService, 'get'>;
  ballots: Pick<BallotService, 'hasVoted' | 'markVotesAwarded'>;
  users: Pick<UserStore, 'get'>;
  points: Pick<PointsService, 'award'>;
  rewards: Pick<RewardService, 'reconcile'>;
  /** A redemption older than this is settled by the reconciler. */
  reconcileAfterMs: number;
};

/**
 * `points` queue. `award`: one participation award. For a vote the poll's own reward is used and the
 * ballot must exist (a forged or stale job awards nothing); for the profile, the profile must be
 * complete. Awarding is idempotent in Redis (one marker per user, reason and ref), so retries,
 * duplicate jobs and stalled re-runs award once.
 */
export function pointsHandlers(deps: PointsJobDeps): JobHandlers {
  return {
    async award(job, log) {
      const d = parseJob(pointsAwardJob, job);
      let points = d.points;
      if (d.reason === 'vote') {
        const pollId = Number(d.ref);
        if (!Number.isSafeInteger(pollId) || pollId <= 0) throw new UnrecoverableError(`vote award with a bad poll ref "${d.ref}"`);
        const poll = await deps.polls.get(pollId);
        if (!poll) throw new UnrecoverableError(`vote award for unknown poll ${pollId}`);
        if (!(await deps.ballots.hasVoted(pollId, d.userId))) throw new UnrecoverableError(`user ${d.userId} has no ballot in poll ${pollId}`);
        points = poll.points;
      } else {
        const user = await deps.users.get(d.userId);
        if (!user) throw new UnrecoverableError(`profile award for unknown user ${d.userId}`);
        if (!user.profileComplete) throw new UnrecoverableError(`user ${d.userId} has no complete profile`);
      }
      if (points === 0) return { awarded: false, points };
      const out = await deps.points.award(d.userId, d.reason, d.ref, points);
      if (d.reason === 'vote') {
        // lets the finalise sweep skip this voter; not awaited (no extra round trip per job): if it is
        // lost, the sweep makes an idempotent no-op award for this voter
        void deps.ballots.markVotesAwarded(Number(d.ref), [d.userId]).catch((err: Error) => log.warn({ err, userId: d.userId, ref: d.ref }, 'could not mark the vote award made'));
      }
      log.debug({ userId: d.userId, reason: d.reason, ref: d.ref, created: out.created, balance: out.balance }, 'points award');
      return { awarded: out.created, points, balance: out.balance };
    },

    async 'reconcile-redemptions'(job, log) {
      parseJob(reconcileRedemptionsJob, job);
      const out = await deps.rewards.reconcile(deps.reconcileAfterMs);
      if (out.sold + out.refunded + out.cleared > 0) log.warn(out, 'half-done redemptions settled');
      return out;
    },
  };
}
