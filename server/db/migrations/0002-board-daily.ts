import { sql, type Kysely } from 'kysely';

/**
 * The accountability board's daily rollup, one row per (scope, key, routing day in city time) — scope
 * `organisation` (key = its id) or `district` (key = the district id) — kept up to date by the step
 * transactions, so a 90-day board reads ~90 rows per organisation instead of every answer cycle.
 * answer_days[k + 1] counts answers given k working days after routing (k capped at 60): medians come from
 * the summed histogram.
 */
export async function up(db: Kysely<any>): Promise<void> {
  // the list filtered by organisation, newest first: without it an organisation with few (or no) reports
  // made PostgreSQL walk the whole created_at index looking for 20 of them (seconds at 1M reports)
  // the board's "overdue now": the open cycles routed in the period, read from the index alone
  await sql`create index city_cycles_open_routed on city_cycles (routed_at) include (organisation_id, district, deadline) where answered_at is null`.execute(db);
  await db.schema.createIndex('city_reports_org_created').on('city_reports').columns(['organisation_id', 'created_at desc']).execute();
  await db.schema
    .createTable('city_board_daily')
    .addColumn('scope', 'text', (c) => c.notNull().check(sql`scope in ('organisation', 'district')`))
    .addColumn('key', 'text', (c) => c.notNull())
    .addColumn('day', 'date', (c) => c.notNull())
    .addColumn('received', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('answered', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('on_time', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('disputed', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('answer_days', sql`integer[]`, (c) => c.notNull().defaultTo(sql`'{}'`))
    .addPrimaryKeyConstraint('city_board_daily_pk', ['scope', 'day', 'key'])
    .execute();
  // the cycles recorded before this table existed (Moscow days; no histogram for them)
  for (const [scope, col] of [['organisation', sql`organisation_id::text`], ['district', sql`district`]] as const) {
    await sql`
      insert into city_board_daily (scope, key, day, received, answered, on_time, disputed)
      select ${scope}, ${col}, (routed_at at time zone 'Europe/Moscow')::date, count(distinct report_id),
             count(answered_at), count(*) filter (where answered_at <= deadline), count(*) filter (where disputed)
      from city_cycles group by 2, 3
    `.execute(db);
  }
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('city_reports_org_created').ifExists().execute();
  await db.schema.dropIndex('city_cycles_open_routed').ifExists().execute();
  await db.schema.dropTable('city_board_daily').ifExists().execute();
}
