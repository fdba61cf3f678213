import { UnrecoverableError, type Processor } from 'bullmq';
import type { QueueName } from './queues.ts';
import type { WorkerContext } from './worker-context.ts';

/**
 * One processor per queue; each dispatches on job.name to the domain's job handler and validates
 * job.data with the schema from shared/jobs.ts inside the handler. Domains register here.
 */
export function createProcessors(_ctx: WorkerContext): Record<QueueName, Processor> {
  const unknown: Processor = async (job) => {
    throw new UnrecoverableError(`unknown job ${job.queueName}/${job.name}`);
  };
  return {
    points: unknown,
    lifecycle: unknown,
    notifications: unknown,
  };
}
