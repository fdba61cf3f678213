import { UnrecoverableError, type Job } from 'bullmq';
import { awardBatchJob, awardSweepJob } from '../../shared/jobs.ts';
import type { Logger } from '../logger.ts';
import type { Redis } from '../redis/connection.ts';
import type { Keys } from '../redis/keys.ts';
import type { PollService } from '../polls/poll.service.ts';
import type { PointsService } from '../points/points.service.ts';
import { parseJob, type JobHandlers } from '../jobs/job-data.ts';
import { createAwardBatchStore } from './award-batch.store.ts';

/** Polls the safety net looks at (newest first): the same window as the feed. */
const SWEEP_POLLS = 1000;
/** A taken voter older than this belongs to a batch that died (a live step takes well under a second). */
const STALE_TAKEN_MS = 60_000;
/** Far beyond any clock: "every taken voter". */
const ALL = Number.MAX_SAFE_INTEGER;

export type BatchOutcome = { voters: number; awarded: number; steps: { at: number; n: number; doneAt: number }[] };

/**
 * Vote points in batches (no per-voter job). `award-batch` drains one poll shard's pending set in steps
 * of AWARD_BATCH_SIZE voters: take (pending -> taken, one script), award each voter (the idempotent
 * single-slot award script, pipelined; the ledger time is the step's time), then set their awarded bits
 * and drop them from taken (one script). It runs until a take comes back short, i.e. the set is empty:
 * the next ballot then opens a new batch. A re-run (retry or stalled after a crash) first takes back
 * every voter left taken, so a worker killed mid-step loses nobody; an award made twice is a no-op.
 * `award-sweep` (repeatable) drains what no batch job will: a pending set whose job was never added
 * (the server died right after the ballot) and voters left taken by a batch that died for good.
 */
export type AwardBatchJobDeps = {
  redis: Redis;
  keys: Keys;
  polls: Pick<PollService, 'get'>;
  points: Pick<PointsService, 'awardMany'>;
  /** Voters per step (AWARD_BATCH_SIZE). */
  batchSize: number;
  /** The sweep's other net: (re)enqueue finalisation of a poll it finds closed but not finalised. */
  finaliseClosed: (pollId: number) => Promise<unknown>;
};

export function awardBatchHandlers(ctx: AwardBatchJobDeps): JobHandlers {
  const store = createAwardBatchStore(ctx.redis, ctx.keys);
  const size = ctx.batchSize;

  async function drain(pollId: number, shard: number, recoverUpTo: number, log: Logger): Promise<BatchOutcome> {
    const poll = await ctx.polls.get(pollId);
    if (!poll) throw new UnrecoverableError(`award batch for unknown poll ${pollId}`);
    if (shard >= poll.shards) throw new UnrecoverableError(`award batch for shard ${shard} of a ${poll.shards}-shard poll ${pollId}`);
    const out: BatchOutcome = { voters: 0, awarded: 0, steps: [] };
    const ref = String(pollId);
    let upTo = recoverUpTo;
    for (;;) {
      const { at, userIds } = await store.take(pollId, shard, size, upTo);
      // recovered voters were re-stamped `at`: later steps look only at those taken before this job began
      if (upTo === ALL) upTo = at - 1;
      if (!userIds.length) break;
      const outs = await ctx.points.awardMany(userIds, 'vote', ref, poll.points, at);
      await store.done(pollId, shard, poll.shards, userIds);
      out.voters += userIds.length;
      out.awarded += outs.filter((o) => o.created).length;
      out.steps.push({ at, n: userIds.length, doneAt: Date.now() });
      if (userIds.length < size) break;
    }
    log.debug({ pollId, shard, voters: out.voters, awarded: out.awarded, steps: out.steps.length }, 'award batch');
    return out;
  }

  return {
    async 'award-batch'(job: Job, log) {
      const d = parseJob(awardBatchJob, job);
      const reRun = job.attemptsMade > 0 || (job.stalledCounter ?? 0) > 0;
      return { pollId: d.pollId, shard: d.shard, ...(await drain(d.pollId, d.shard, reRun ? ALL : -1, log)) };
    },

    async 'award-sweep'(job, log) {
      parseJob(awardSweepJob, job);
      let voters = 0;
      let batches = 0;
      // the steps it made, as a batch job reports them (the award times of the voters it drained)
      const drained: { pollId: number; steps: BatchOutcome['steps'] }[] = [];
      let finalising = 0;
      for (const pollId of await store.recentPollIds(SWEEP_POLLS)) {
        const poll = await ctx.polls.get(pollId);
        if (poll?.status === 'closed') {
          await ctx.finaliseClosed(pollId);
          finalising++;
        }
        // finalised polls were swept by finalisation itself; drafts have no ballots
        if (!poll || poll.points === 0 || poll.status === 'draft' || poll.status === 'finalised') continue;
        const staleBefore = Date.now() - STALE_TAKEN_MS;
        for (const b of await store.backlog(pollId, poll.shards, staleBefore)) {
          if (!b.pending && !b.stale) continue;
          const r = await drain(pollId, b.shard, b.stale ? staleBefore : -1, log);
          voters += r.voters;
          batches++;
          if (r.steps.length) drained.push({ pollId, steps: r.steps });
        }
      }
      if (voters) log.warn({ voters, batches }, 'award sweep drained vote awards no batch job was going to make');
      return { voters, batches, drained, finalising };
    },
  };
}
