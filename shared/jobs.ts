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
export const lifecycleJobId = (name: (typeof LIFECYCLE_JOBS)[number], pollId: number) => `${name}-${pollId}`;

// ---- points queue ----
/** job names on the `points` queue: `award` (pointsAwardJob) and the repeatable redemption reconciler */
export const POINTS_JOBS = ['award', 'reconcile-redemptions'] as const;
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
