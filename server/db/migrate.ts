import { Migrator, type Kysely, type Migration, type MigrationProvider } from 'kysely';
import * as m0001 from './migrations/0001-city.ts';
import * as m0002 from './migrations/0002-board-daily.ts';

/** Every migration, in order. Never edit or reorder a landed one: add the next file. */
const MIGRATIONS: Record<string, Migration> = {
  '0001-city': m0001,
  '0002-board-daily': m0002,
};

const provider: MigrationProvider = { getMigrations: async () => MIGRATIONS };

/**
 * Brings the schema to the latest version. Safe from several processes at once: Kysely's migrator holds
 * a lock row while it runs, so the others wait and then find nothing to do.
 */
export async function migrateToLatest(db: Kysely<any>): Promise<string[]> {
  const migrator = new Migrator({ db, provider, migrationTableName: 'ac_migrations', migrationLockTableName: 'ac_migrations_lock' });
  const { error, results } = await migrator.migrateToLatest();
  if (error) throw error instanceof Error ? error : new Error(String(error));
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
