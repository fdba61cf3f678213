import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { startRedisServer } from '../../server/redis/redis-server.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    redisUrl: string;
  }
}

/** One real redis-server per test run, on a free port (never 6379), data in a temp dir, gone afterwards. */
export default async function setup(project: TestProject) {
  const dir = mkdtempSync(join(tmpdir(), 'ac-test-redis-'));
  const server = await startRedisServer({ dir, appendfsync: 'everysec' });
  project.provide('redisUrl', server.url);
  return async () => {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  };
}
