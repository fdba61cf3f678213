import { UnrecoverableError, type Job } from 'bullmq';
import type { z } from 'zod';
import type { Logger } from '../logger.ts';

/** One job handler: gets the job and a child logger with {queue, jobId, job}. */
export type JobHandler = (job: Job, log: Logger) => Promise<unknown>;
/** The handlers of one queue, by job name. */
export type JobHandlers = Record<string, JobHandler>;

/**
 * job.data is input from outside too: parse it, and fail the job for good (no retries: a malformed
 * payload never gets better) with the issues in the message.
 */
export function parseJob<T extends z.ZodType>(schema: T, job: Job): z.infer<T> {
  const r = schema.safeParse(job.data);
  if (!r.success) {
    const issues = r.error.issues.slice(0, 5).map((i) => `${i.path.join('.') || '(data)'}: ${i.message}`);
    throw new UnrecoverableError(`invalid ${job.queueName}/${job.name} job data: ${issues.join('; ')}`);
  }
  return r.data;
}
