import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import { loadConfig, type Config } from '../../server/config.ts';
import { createLogger } from '../../server/logger.ts';
import { createContext, type AppContext } from '../../server/context.ts';
import { startServer, type RunningServer } from '../../server/main.ts';
import { TEST_DATA_DIR } from './processes.ts';

/** A key prefix no other test file uses, so files share one redis-server without seeing each other. */
export function uniquePrefix(label = 't'): string {
  return `test:${label}:${randomBytes(4).toString('hex')}:`;
}

export const testLogger = createLogger({ name: 'test', level: process.env.TEST_LOG_LEVEL ?? 'silent' });

/** Config for tests: the run's redis-server, a unique prefix, any overrides. */
export function testConfig(overrides: Record<string, string> = {}): Config {
  return loadConfig({
    NODE_ENV: 'test',
    REDIS_URL: inject('redisUrl'),
    REDIS_PREFIX: uniquePrefix(),
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'silent',
    APP_SECRET: 'test-secret-0123456789abcdef',
    SERVER_PROCESSES: '1',
    ALLOWED_ORIGINS: 'http://localhost:5173,http://app.test',
    DATA_DIR: TEST_DATA_DIR,
    // Integration tests seed thousands of records through an in-process server's own (fail-fast)
    // connection, far beyond any request's load; on a shared 2-core machine a command can then wait
    // past the default. The fail-fast bound itself is proven at the default in tests/faults/fail-fast.test.ts.
    REDIS_COMMAND_TIMEOUT_MS: '10000',
    ...overrides,
  });
}

export function testContext(overrides: Record<string, string> = {}): AppContext {
  return createContext(testConfig(overrides), testLogger);
}

/** A real server listening on a free port (no web build), with a base URL. */
export async function testServer(overrides: Record<string, string> = {}): Promise<RunningServer & { url: string }> {
  const s = await startServer(testConfig(overrides), testLogger, { web: false });
  return Object.assign(s, { url: `http://127.0.0.1:${s.port}` });
}

/** Origin header accepted by test servers' CSRF check. */
export const TEST_ORIGIN = 'http://app.test';
