import type { Queue } from 'bullmq';
import type { Logger } from '../logger.ts';
import { awardBatchJobId, type AwardBatchJob } from '../../shared/jobs.ts';

/**
 * Enqueue one shard's award batch job: called once per batch, when a ballot made the shard's pending set
 * non-empty (the cast script numbers that batch). The delay lets the batch fill; the id makes a retried
 * add a no-op. A lost add is covered by the repeatable `award-sweep` and, at the end, the finalise sweep.
 */
export function createAwardBatchQueue(deps: { points: Pick<Queue, 'add'>; delayMs: number; logger: Logger }) {
  return (job: AwardBatchJob): void => {
    deps.points
      .add('award-batch', job, { jobId: awardBatchJobId(job), delay: deps.delayMs })
      .catch((err: Error) => deps.logger.error({ err, pollId: job.pollId, shard: job.shard }, 'award batch enqueue failed (the award sweep covers it)'));
  };
}
export type AwardBatchQueue = ReturnType<typeof createAwardBatchQueue>;
