import { Queue, type ConnectionOptions } from 'bullmq';
import { queuePrefix } from '../redis/keys.ts';

/** Every BullMQ queue of the platform. Job payload schemas live in shared/jobs.ts. */
export const QUEUE_NAMES = ['points', 'lifecycle', 'notifications', 'city'] as const;
export type QueueName = (typeof QUEUE_NAMES)[number];

export const defaultJobOptions = {
  attempts: 8,
  backoff: { type: 'exponential', delay: 500 },
  removeOnComplete: { count: 1000, age: 24 * 3600 },
  removeOnFail: { count: 5000, age: 7 * 24 * 3600 },
} as const;

export function createQueues(connection: ConnectionOptions, redisPrefix: string) {
  const prefix = queuePrefix(redisPrefix);
  const queues = Object.fromEntries(
    QUEUE_NAMES.map((name) => [name, new Queue(name, { connection, prefix, defaultJobOptions })]),
  ) as Record<QueueName, Queue>;
  return {
    ...queues,
    all: () => Object.values(queues),
    async close() {
      await Promise.all(Object.values(queues).map((q) => q.close()));
    },
  };
}
export type Queues = ReturnType<typeof createQueues>;
