import { inject } from 'vitest';
import { spawnScript, until, TEST_DATA_DIR, type Spawned } from './processes.ts';
import { uniquePrefix } from './context.ts';
import { freePort } from '../../server/redis/redis-server.ts';
import { createTestDatabase } from './city.ts';

export type Platform = { url: string; port: number; prefix: string; proc: Spawned; stop: () => Promise<void> };

/**
 * The real platform (launcher → server + worker processes) on the test run's redis-server,
 * with its own key prefix and port, using the already-built web app.
 */
export async function startPlatform(env: Record<string, string> = {}): Promise<Platform> {
  // a caller may pick the port (e.g. to name it in ALLOWED_ORIGINS before start)
  const port = env.PORT ? Number(env.PORT) : await freePort();
  const prefix = uniquePrefix('e2e');
  const proc = spawnScript('scripts/start.ts', ['--no-build'], {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NODE_ENV: 'test',
    LOG_LEVEL: 'warn',
    PORT: String(port),
    REDIS_URL: inject('redisUrl'),
    REDIS_PREFIX: prefix,
    DATABASE_URL: await createTestDatabase('e2e'),
    APP_SECRET: 'e2e-secret-0123456789abcdef',
    DATA_DIR: TEST_DATA_DIR,
    ...env,
  });
  const url = `http://localhost:${port}`;
  await until(async () => (await fetch(`${url}/readyz`)).status === 200, 60_000, 100);
  return {
    url,
    port,
    prefix,
    proc,
    stop: async () => {
      if (proc.child.exitCode === null) proc.child.kill('SIGTERM');
      await proc.exited;
    },
  };
}
