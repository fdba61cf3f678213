import { Migrator, type Kysely, type Migration, type MigrationProvider } from 'kysely';
import * as m0001 from './migrations/0001-city.ts';
import * as m0002 from './migrations/0002-board-daily.ts';
import * as m0003 from './migrations/0003-poll-archive.ts';
import * as m0004 from './migrations/0004-board-rollup.ts';
import * as m0005 from './migrations/0005-report-list-indexes.ts';
import * as m0006 from './migrations/0006-cycle-remind-at.ts';
import type { WorkCalendar } from '../decisions/working-days.ts';

/** What a migration may need from the configuration (a backfill in city time, on the city's calendar). */
export type MigrationContext = { cityUtcOffsetMinutes: number; calendar: WorkCalendar };

/** Every migration, in order. Never edit or reorder a landed one: add the next file. */
const migrations = (ctx: MigrationContext): Record<string, Migration> => ({
  '0001-city': m0001,
  '0002-board-daily': m0002,
  '0003-poll-archive': m0003,
  '0004-board-rollup': m0004.migration(ctx),
  '0005-report-list-indexes': m0005,
  '0006-cycle-remind-at': m0006.migration(ctx),
});

/** Kysely's migrator over this project's migrations (tests also step to one version: `migrateTo(name)`). */
export function createMigrator(db: Kysely<any>, ctx: MigrationContext): Migrator {
  const provider: MigrationProvider = { getMigrations: async () => migrations(ctx) };
  return new Migrator({ db, provider, migrationTableName: 'ac_migrations', migrationLockTableName: 'ac_migrations_lock' });
}

/**
 * Brings the schema to the latest version. Safe from several processes at once: Kysely's migrator holds
 * a lock row while it runs, so the others wait and then find nothing to do.
 */
export async function migrateToLatest(db: Kysely<any>, ctx: MigrationContext): Promise<string[]> {
  const { error, results } = await createMigrator(db, ctx).migrateToLatest();
  if (error) throw error instanceof Error ? error : new Error(String(error));
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
