import { UnrecoverableError, type Processor } from 'bullmq';
import { QUEUE_NAMES, type QueueName } from './queues.ts';
import type { WorkerContext } from './worker-context.ts';
import type { JobHandlers } from './job-data.ts';
import { pointsHandlers } from './points.jobs.ts';
import { awardBatchHandlers } from './award-batch.jobs.ts';
import { lifecycleHandlers } from './lifecycle.jobs.ts';
import { notificationHandlers } from '../decisions/decisions.module.ts';

/**
 * One processor per queue; each dispatches on job.name to the domain's handler (which validates job.data
 * with the schema from shared/jobs.ts). An unknown name fails for good. Domains register here: a queue's
 * entry is a `Record<jobName, JobHandler>`.
 */
export function createProcessors(ctx: WorkerContext): Record<QueueName, Processor> {
  const handlers: Record<QueueName, JobHandlers> = {
    points: { ...pointsHandlers(ctx), ...awardBatchHandlers(ctx) },
    lifecycle: lifecycleHandlers(ctx),
    notifications: notificationHandlers(ctx),
  };
  const dispatch = (queue: QueueName): Processor => {
    const byName = handlers[queue];
    return async (job) => {
      const handler = Object.hasOwn(byName, job.name) ? byName[job.name] : undefined;
      if (!handler) throw new UnrecoverableError(`unknown job ${job.queueName}/${job.name}`);
      return handler(job, ctx.logger.child({ queue, jobId: job.id, job: job.name }));
    };
  };
  return Object.fromEntries(QUEUE_NAMES.map((q) => [q, dispatch(q)])) as Record<QueueName, Processor>;
}
