import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { startPostgresServer } from '../../server/postgres/postgres-server.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** postgres://… of the run's server (database `postgres`); each test file creates its own database. */
    postgresUrl: string;
  }
}

/** One real PostgreSQL per test run, on a free port (never 5432), data in a temp dir, gone afterwards. */
export default async function setup(project: TestProject) {
  const dir = mkdtempSync(join(tmpdir(), 'ac-test-pg-'));
  // as root the server runs as `postgres`, which must reach its data dir inside this one
  chmodSync(dir, 0o711);
  const server = await startPostgresServer({ dir: join(dir, 'data'), durable: false });
  project.provide('postgresUrl', server.url);
  return async () => {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  };
}
