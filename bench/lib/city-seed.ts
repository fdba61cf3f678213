import { sql } from 'kysely';
import type { Db } from '../../server/db/db.ts';
import { DISTRICTS } from '../../shared/districts.ts';
import { progress } from './util.ts';
import { rebuildBoardRollup } from '../../server/city/board.rollup.ts';

/**
 * `reports` Our City reports with generate_series (batches of 100k, progress on stderr) spread evenly over
 * the districts and the last year's days, their answer cycles and the board's rollup as the step
 * transactions would have kept them, then VACUUM ANALYZE. Returns the ids the queries pick from.
 */
export async function seedCityReports(db: Db, reports: number, utcOffsetMinutes: number): Promise<{ seconds: number; districts: string[]; okrugs: string[]; cats: string[]; orgIds: number[] }> {
  const districts = DISTRICTS.map((d) => d.id);
  const okrugs = DISTRICTS.map((d) => d.okrug);
  const orgIds = (await db.selectFrom('city_organisations').select('id').orderBy('id').execute()).map((r) => r.id);
  // a report goes to its district's housing service, or (one in three) to a city-wide service, as routing proposes
  const orgRows = await db.selectFrom('city_organisations').select(['id', 'slug']).execute();
  const housingOf = districts.map((d) => orgRows.find((o) => o.slug === `housing-${d}`)!.id);
  const cityWide = orgRows.filter((o) => o.slug.startsWith('city-')).map((o) => o.id);
  const cats = (await db.selectFrom('city_categories').select('code').execute()).map((r) => r.code);
  const words = ['протекает крыша над подъездом', 'глубокая яма на дороге', 'не горит фонарь во дворе', 'мусор не вывозят неделю', 'сломаны качели на площадке', 'наледь на тротуаре у школы'];
  const statuses = ['submitted', 'routed', 'answered', 'closed', 'closed', 'routed', 'rejected'];
  const batch = 100_000;
  const s0 = Date.now();
  for (let from = 0; from < reports; from += batch) {
    const to = Math.min(reports, from + batch) - 1;
    await sql`
      with g as (select i from generate_series(${from}::int, ${to}::int) i)
      insert into city_reports (reporter_id, category, district, okrug, address, address_key, description, status, organisation_id, cycle, deadline,
                                answered_at, outcome, resolution, disputes, supporters, timeline_seq, created_at, updated_at)
      select 1 + i % 50000,
             (${cats}::text[])[1 + i % ${cats.length}],
             (${districts}::text[])[1 + (i * 7) % ${districts.length}],
             (${okrugs}::text[])[1 + (i * 7) % ${districts.length}],
             'ул. Бенчмарка, ' || i, 'бенчмарка ' || i,
             (${words}::text[])[1 + i % ${words.length}] || ', обращение ' || i,
             st,
             case when st in ('submitted', 'rejected') then null
                  when i % 3 = 0 then (${cityWide}::int[])[1 + (i / 3) % ${cityWide.length}]
                  else (${housingOf}::int[])[1 + (i * 7) % ${districts.length}] end,
             case when st in ('submitted', 'rejected') then 0 else 1 end,
             case when st in ('submitted', 'rejected') then null else created + interval '10 days' end,
             case when st in ('answered', 'closed') then created + ((i % 12) || ' days')::interval end,
             case when st in ('answered', 'closed') then 'fixed' end,
             case when st = 'closed' then 'confirmed' end,
             (i % 10 = 0)::int, i % 7, 2, created, created
      from (select i, (${statuses}::text[])[1 + (i * 31) % ${statuses.length}] st,
                   now() - ((i / ${districts.length} % 365) || ' days')::interval - ((i % 86400) || ' seconds')::interval created from g) x
    `.execute(db);
    progress(`city: seeded ${to + 1} / ${reports} reports (${((Date.now() - s0) / 1000).toFixed(0)} s)`);
  }
  // escalation marks a cycle at its deadline when it is still open then, as the worker does
  await sql`
    insert into city_cycles (report_id, seq, organisation_id, district, routed_at, deadline, answered_at, answer_working_days, outcome, disputed, escalated_at)
    select id, 1, organisation_id, district, created_at + interval '1 hour', deadline, answered_at,
           case when answered_at is not null then extract(day from answered_at - created_at)::int end, outcome, disputes > 0,
           case when deadline < least(now(), coalesce(answered_at, 'infinity')) then deadline end
    from city_reports where organisation_id is not null and id > (select coalesce(max(report_id), 0) from city_cycles)
  `.execute(db);
  // the board's rollup as the step transactions keep it: the recount the drift test checks them against
  await rebuildBoardRollup(db, utcOffsetMinutes);
  // vacuum too: index-only scans need the visibility map a bulk load leaves unset
  await sql`vacuum analyze`.execute(db);
  const seconds = (Date.now() - s0) / 1000;
  progress(`city: ${reports} reports and their answer cycles seeded and analysed in ${seconds.toFixed(0)} s`);
  return { seconds, districts, okrugs, cats, orgIds };
}
