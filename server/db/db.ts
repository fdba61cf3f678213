import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { Database } from './schema.ts';
import type { Logger } from '../logger.ts';

export type Db = Kysely<Database>;

// `date` columns stay 'YYYY-MM-DD' strings (pg would turn them into local-midnight Dates); bigint ids
// (bigserial) fit in a double for any count this platform will see.
pg.types.setTypeParser(pg.types.builtins.DATE, (v) => v);
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));

/**
 * A Kysely instance over a pg Pool. A request that cannot get a connection within `connectTimeoutMs`
 * fails (and maps to 503 `unavailable`, see db-errors.ts) instead of queueing forever.
 */
export function createDb(url: string, opts: { max: number; connectTimeoutMs: number; logger: Logger; statementTimeoutMs?: number }): { db: Db; pool: pg.Pool } {
  const pool = new pg.Pool({
    connectionString: url,
    max: opts.max,
    connectionTimeoutMillis: opts.connectTimeoutMs,
    idleTimeoutMillis: 30_000,
    statement_timeout: opts.statementTimeoutMs ?? 30_000,
    application_name: 'active-citizen',
  });
  // an idle client whose server went away: log, the pool drops it
  pool.on('error', (err) => opts.logger.warn({ err: err.message }, 'postgres idle client error'));
  // a CHECKED-OUT client (a transaction between two queries) has no listener of the pool's: its 'error'
  // would be unhandled and kill the process when the server dies; the query in flight fails on its own
  pool.on('connect', (client) => {
    client.on('error', (err) => opts.logger.warn({ err: err.message }, 'postgres connection lost'));
  });
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return { db, pool };
}
