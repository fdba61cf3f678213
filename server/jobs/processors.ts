import { UnrecoverableError, type Processor } from 'bullmq';
import { QUEUE_NAMES, type QueueName } from './queues.ts';
import type { Logger } from '../logger.ts';
import type { JobHandlers } from './job-data.ts';

/**
 * One processor per queue; each dispatches on job.name to the domain's handler (which validates job.data
 * with the schema from shared/jobs.ts). An unknown name fails for good. Each domain builds its queue's
 * `Record<jobName, JobHandler>` (worker.ts passes them in).
 */
export function createProcessors(handlers: Record<QueueName, JobHandlers>, logger: Logger): Record<QueueName, Processor> {
  const dispatch = (queue: QueueName): Processor => {
    const byName = handlers[queue];
    return async (job) => {
      const handler = Object.hasOwn(byName, job.name) ? byName[job.name] : undefined;
      if (!handler) throw new UnrecoverableError(`unknown job ${job.queueName}/${job.name}`);
      return handler(job, logger.child({ queue, jobId: job.id, job: job.name }));
    };
  };
  return Object.fromEntries(QUEUE_NAMES.map((q) => [q, dispatch(q)])) as Record<QueueName, Processor>;
}
