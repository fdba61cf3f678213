import { z } from 'zod';

/**
 * BullMQ job payloads, validated inside each processor (a job is input from outside too).
 * Job ids are deterministic so a duplicate add is a no-op; BullMQ forbids ':' in custom ids.
 */
export const pointsAwardJob = z.object({
  userId: z.number().int().positive(),
  /** Why: one award per (userId, reason, ref) ever. */
  reason: z.enum(['vote', 'profile']),
  /** The poll id for a vote; 'profile' for profile completion. */
  ref: z.string().min(1).max(64),
  points: z.number().int().min(0).max(100_000),
});
export type PointsAwardJob = z.infer<typeof pointsAwardJob>;
export const pointsJobId = (j: Pick<PointsAwardJob, 'userId' | 'reason' | 'ref'>) => `award-${j.reason}-${j.ref}-${j.userId}`;

export const pollLifecycleJob = z.object({ pollId: z.number().int().positive() });
export type PollLifecycleJob = z.infer<typeof pollLifecycleJob>;
/** job names on the `lifecycle` queue */
export const LIFECYCLE_JOBS = ['open', 'close', 'finalise'] as const;
/** the job scheduler id of the archive sweep on the `lifecycle` queue (finalised polls not yet in PostgreSQL) */
export const ARCHIVE_SWEEP_SCHEDULER_ID = 'archive-sweep';
export const lifecycleJobId = (name: (typeof LIFECYCLE_JOBS)[number], pollId: number) => `${name}-${pollId}`;

// ---- points queue ----
/**
 * job names on the `points` queue: `award` (pointsAwardJob: one award, e.g. profile completion),
 * `award-batch` (the vote awards of one poll shard), the repeatable safety net `award-sweep` and the
 * repeatable redemption reconciler
 */
export const POINTS_JOBS = ['award', 'award-batch', 'award-sweep', 'reconcile-redemptions'] as const;
/**
 * `award-batch`: award every voter queued in one poll shard's pending set (no voter in the payload).
 * `batch` is the shard's batch number the cast script handed out when the set became non-empty.
 */
export const awardBatchJob = z
  .object({
    pollId: z.number().int().positive(),
    shard: z.number().int().min(0).max(1023),
    batch: z.number().int().positive(),
  })
  .strict();
export type AwardBatchJob = z.infer<typeof awardBatchJob>;
export const awardBatchJobId = (j: AwardBatchJob) => `award-batch-${j.pollId}-${j.shard}-${j.batch}`;
export const awardSweepJob = z.object({}).strict();
/** the job scheduler id of the repeatable award safety net (one per deployment, upserted by every worker) */
export const AWARD_SWEEP_SCHEDULER_ID = 'award-sweep';
export const reconcileRedemptionsJob = z.object({}).strict();
/** the job scheduler id of the repeatable reconciler (one per deployment, upserted by every worker) */
export const RECONCILE_SCHEDULER_ID = 'reconcile-redemptions';

// ---- notifications queue ----
/**
 * `fanout`: tell every voter of a poll about one decision event (timeline entry `seq`). Processed in
 * chunks of `chunkBits` bits of the voter bitmaps; the cursor lives in Redis, so a re-run resumes.
 * chunkBits is fixed at enqueue (the cursor counts chunks of that size).
 */
export const decisionFanoutJob = z
  .object({
    pollId: z.number().int().positive(),
    seq: z.number().int().positive().max(1000),
    chunkBits: z.number().int().min(8).max(1 << 22),
  })
  .strict();
export type DecisionFanoutJob = z.infer<typeof decisionFanoutJob>;
export const NOTIFICATION_JOBS = ['fanout'] as const;
export const fanoutJobId = (j: Pick<DecisionFanoutJob, 'pollId' | 'seq'>) => `fanout-${j.pollId}-${j.seq}`;

// ---- city queue (Our City) ----
/**
 * `remind` / `escalate`: one answer cycle (a routing and its deadline) of a report; delayed to 2 working days
 * before (none for a deadline that short) / exactly at the deadline. The handler acts only while that cycle is
 * current, unanswered and due, and marks it in the same transaction, so each runs once per cycle whatever is
 * re-added or re-run.
 */
export const cityDeadlineJob = z.object({ reportId: z.number().int().positive(), cycle: z.number().int().positive().max(10_000) }).strict();
export type CityDeadlineJob = z.infer<typeof cityDeadlineJob>;
/** `auto-close`: an answer (its time in ms) left without a verdict for VERDICT_DAYS. */
export const cityAutoCloseJob = z.object({ reportId: z.number().int().positive(), answeredAt: z.number().int().positive() }).strict();
export type CityAutoCloseJob = z.infer<typeof cityAutoCloseJob>;
/** `sweep`: the repeatable safety net (missed deadline jobs, unconfirmed points, orphan photo files). */
export const citySweepJob = z.object({}).strict();
export const CITY_JOBS = ['remind', 'escalate', 'auto-close', 'sweep'] as const;
export const cityJobId = (name: 'remind' | 'escalate', j: CityDeadlineJob) => `city-${name}-${j.reportId}-${j.cycle}`;
export const cityAutoCloseJobId = (j: CityAutoCloseJob) => `city-close-${j.reportId}-${j.answeredAt}`;
export const CITY_SWEEP_SCHEDULER_ID = 'city-sweep';
