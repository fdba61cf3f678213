// The PostgreSQL the Our City browser test runs against: a private server for this file (Debian's binaries,
// fsync off, data in a temp dir), the same helper `npm start` uses when DATABASE_URL is unset.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPostgresServer } from '../../server/postgres/postgres-server.ts';

let stop: (() => Promise<void>) | null = null;

/** Starts the database and returns the platform's env for it; `stopCityDatabase()` in afterAll. */
export async function cityPlatformEnv(): Promise<Record<string, string>> {
  const dir = mkdtempSync(join(tmpdir(), 'ac-e2e-pg-'));
  const pg = await startPostgresServer({ dir, database: 'city_e2e', durable: false });
  stop = async () => {
    await pg.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  return { DATABASE_URL: pg.url };
}

export async function stopCityDatabase(): Promise<void> {
  await stop?.();
  stop = null;
}
