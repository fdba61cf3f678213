import { sql, type Kysely } from 'kysely';

/**
 * The accountability board's daily rollup: per (routing day in city time, organisation, district), kept
 * up to date by the step transactions, so the board reads a few thousand rows instead of every answer
 * cycle of the period. answer_days[k + 1] counts answers given k working days after routing (k capped at
 * 60): medians come from the summed histogram.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('city_board_daily')
    .addColumn('day', 'date', (c) => c.notNull())
    .addColumn('organisation_id', 'integer', (c) => c.notNull())
    .addColumn('district', 'text', (c) => c.notNull())
    .addColumn('received', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('answered', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('on_time', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('disputed', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('answer_days', sql`integer[]`, (c) => c.notNull().defaultTo(sql`'{}'`))
    .addPrimaryKeyConstraint('city_board_daily_pk', ['day', 'organisation_id', 'district'])
    .execute();
  await db.schema.createIndex('city_board_daily_district').on('city_board_daily').columns(['district', 'day']).execute();
  // the rows of cycles recorded before this table existed (Moscow days)
  await sql`
    insert into city_board_daily (day, organisation_id, district, received, answered, on_time, disputed)
    select (routed_at at time zone 'Europe/Moscow')::date, organisation_id, district, count(distinct report_id),
           count(answered_at), count(*) filter (where answered_at <= deadline), count(*) filter (where disputed)
    from city_cycles group by 1, 2, 3
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('city_board_daily').ifExists().execute();
}
