import { sql, type Kysely, type Migration } from 'kysely';

/**
 * The board's rollup gets coarser blocks and "overdue now".
 * - city_board_daily becomes city_board_rollup with a `span`: besides the day rows (span 1) each figure is
 *   also kept per aligned block of 2, 4, … 512 days (block start = a day whose number since 1970-01-01 is a
 *   multiple of the span), so a 90-day board adds up 6-10 blocks per key instead of 90 days. Fill factor 50:
 *   the steps' updates stay on their page (HOT), a block's rows side by side.
 * - overdue_open: the open cycles that escalation has marked (escalated_at, set only once the deadline has
 *   passed), until they are answered. The board adds the open cycles past their deadline that no
 *   escalation has marked yet (a late or dead worker), from a small partial index: the same figure as
 *   counting every open cycle, without reading them all.
 * The backfill needs the city's UTC offset: a rollup day is the routing day in city time.
 */
export function migration(ctx: { cityUtcOffsetMinutes: number }): Migration {
  return {
    async up(db: Kysely<any>) {
      await sql`alter table city_board_daily rename to city_board_rollup`.execute(db);
      await sql`alter table city_board_rollup add column span smallint not null default 1 check (span in (1, 2, 4, 8, 16, 32, 64, 128, 256, 512))`.execute(db);
      await sql`alter table city_board_rollup add column overdue_open integer not null default 0`.execute(db);
      await sql`alter table city_board_rollup set (fillfactor = 50, parallel_workers = 0)`.execute(db);
      await sql`alter table city_board_rollup drop constraint city_board_daily_pk`.execute(db);
      await sql`alter table city_board_rollup add constraint city_board_rollup_pk primary key (scope, span, day, key)`.execute(db);
      const day = sql`((routed_at at time zone 'UTC') + make_interval(mins => ${ctx.cityUtcOffsetMinutes}::int))::date`;
      for (const [scope, col] of [['organisation', sql`organisation_id::text`], ['district', sql`district`]] as const) {
        await sql`
          insert into city_board_rollup (scope, key, span, day, overdue_open)
          select ${scope}, ${col}, 1, ${day}, count(*)::int from city_cycles
          where answered_at is null and escalated_at is not null group by 2, 4
          on conflict (scope, span, day, key) do update set overdue_open = excluded.overdue_open
        `.execute(db);
      }
      // the longer blocks from the day rows (histograms added up position by position)
      await sql`
        with b as (
          select r.*, s.n as block_span, r.day - ((r.day - date '1970-01-01') % s.n) as block
          from city_board_rollup r, (values (2), (4), (8), (16), (32), (64), (128), (256), (512)) s(n) where r.span = 1
        ), sums as (
          select scope, key, block_span, block, sum(received)::int received, sum(answered)::int answered, sum(on_time)::int on_time,
                 sum(disputed)::int disputed, sum(overdue_open)::int overdue_open
          from b group by 1, 2, 3, 4
        ), h as (
          select scope, key, block_span, block, k, sum(coalesce(n, 0))::int n from b, unnest(answer_days) with ordinality u(n, k) group by 1, 2, 3, 4, 5
        ), ha as (
          select scope, key, block_span, block, array_agg(n order by k) answer_days from h group by 1, 2, 3, 4
        )
        insert into city_board_rollup (scope, key, span, day, received, answered, on_time, disputed, overdue_open, answer_days)
        select scope, key, block_span, block, received, answered, on_time, disputed, overdue_open, coalesce(answer_days, '{}')
        from sums left join ha using (scope, key, block_span, block)
      `.execute(db);
      // open cycles no escalation has marked: the board's late-worker part and the sweep's due list (both
      // read deadline < now: a few rows while the worker keeps up). The cycles' other indexes served the
      // board before the rollup; nothing reads cycles by routing time any more.
      await sql`create index city_cycles_open_unescalated on city_cycles (deadline) include (routed_at, organisation_id, district) where answered_at is null and escalated_at is null`.execute(db);
      // the cycles are read in small pieces (a report's, the few unmarked overdue): a parallel worker's start
      // costs more than such a read, and a misestimated partial index once made the planner pick one
      await sql`alter table city_cycles set (parallel_workers = 0)`.execute(db);
      for (const name of ['city_cycles_open_routed', 'city_cycles_open_deadline', 'city_cycles_org_routed', 'city_cycles_district_routed', 'city_cycles_routed']) {
        await db.schema.dropIndex(name).ifExists().execute();
      }
    },
    async down(db: Kysely<any>) {
      await sql`create index if not exists city_cycles_org_routed on city_cycles (organisation_id, routed_at)`.execute(db);
      await sql`create index if not exists city_cycles_district_routed on city_cycles (district, routed_at)`.execute(db);
      await sql`create index if not exists city_cycles_routed on city_cycles (routed_at)`.execute(db);
      await sql`create index if not exists city_cycles_open_deadline on city_cycles (deadline) where answered_at is null`.execute(db);
      await sql`create index if not exists city_cycles_open_routed on city_cycles (routed_at) include (organisation_id, district, deadline) where answered_at is null`.execute(db);
      await db.schema.dropIndex('city_cycles_open_unescalated').ifExists().execute();
      await sql`alter table city_cycles reset (parallel_workers)`.execute(db);
      await sql`alter table city_board_rollup reset (fillfactor, parallel_workers)`.execute(db);
      await sql`delete from city_board_rollup where span <> 1`.execute(db);
      await sql`alter table city_board_rollup drop constraint city_board_rollup_pk`.execute(db);
      await sql`alter table city_board_rollup drop column overdue_open, drop column span`.execute(db);
      await sql`alter table city_board_rollup add constraint city_board_daily_pk primary key (scope, day, key)`.execute(db);
      await sql`alter table city_board_rollup rename to city_board_daily`.execute(db);
    },
  };
}
