import { UnrecoverableError } from 'bullmq';
import { pointsAwardJob, reconcileRedemptionsJob } from '../../shared/jobs.ts';
import type { WorkerContext } from './worker-context.ts';
import { parseJob, type JobHandlers } from './job-data.ts';

/**
 * `points` queue. `award`: one participation award. For a vote the poll's own reward is used and the
 * ballot must exist (a forged or stale job awards nothing); for the profile, the profile must be
 * complete. Awarding is idempotent in Redis (one marker per user, reason and ref), so retries,
 * duplicate jobs and stalled re-runs award once.
 */
export function pointsHandlers(ctx: WorkerContext): JobHandlers {
  return {
    async award(job, log) {
      const d = parseJob(pointsAwardJob, job);
      let points = d.points;
      if (d.reason === 'vote') {
        const pollId = Number(d.ref);
        if (!Number.isSafeInteger(pollId) || pollId <= 0) throw new UnrecoverableError(`vote award with a bad poll ref "${d.ref}"`);
        const poll = await ctx.polls.get(pollId);
        if (!poll) throw new UnrecoverableError(`vote award for unknown poll ${pollId}`);
        if (!(await ctx.ballots.hasVoted(pollId, d.userId))) throw new UnrecoverableError(`user ${d.userId} has no ballot in poll ${pollId}`);
        points = poll.points;
      } else {
        const user = await ctx.users.get(d.userId);
        if (!user) throw new UnrecoverableError(`profile award for unknown user ${d.userId}`);
        if (!user.profileComplete) throw new UnrecoverableError(`user ${d.userId} has no complete profile`);
      }
      if (points === 0) return { awarded: false, points };
      const out = await ctx.points.award(d.userId, d.reason, d.ref, points);
      if (d.reason === 'vote') {
        // lets the finalise sweep skip this voter; not awaited (no extra round trip per job): if it is
        // lost, the sweep makes an idempotent no-op award for this voter
        void ctx.ballots.markVotesAwarded(Number(d.ref), [d.userId]).catch((err: Error) => log.warn({ err: err.message, userId: d.userId, ref: d.ref }, 'could not mark the vote award made'));
      }
      log.debug({ userId: d.userId, reason: d.reason, ref: d.ref, created: out.created, balance: out.balance }, 'points award');
      return { awarded: out.created, points, balance: out.balance };
    },

    async 'reconcile-redemptions'(job, log) {
      parseJob(reconcileRedemptionsJob, job);
      const out = await ctx.rewards.reconcile(ctx.config.REDEMPTION_RECONCILE_AFTER_MS);
      if (out.sold + out.refunded + out.cleared > 0) log.warn(out, 'half-done redemptions settled');
      return out;
    },
  };
}
