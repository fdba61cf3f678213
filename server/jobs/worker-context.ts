import type { Config } from '../config.ts';
import type { Logger } from '../logger.ts';
import { createContext } from '../context.ts';

/** What job handlers get: the same stores and services as the server (plus the queues to chain jobs). */
export function createWorkerContext(config: Config, logger: Logger) {
  return createContext(config, logger, { processName: 'worker' });
}
export type WorkerContext = ReturnType<typeof createWorkerContext>;
