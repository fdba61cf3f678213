import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { cityApi, cityTestServer, cityUser, createTestDatabase, reportFields, type TestActor } from '../helpers/city.ts';
import { rebuildBoardRollup, recountBoard, type RecountedRow } from '../../server/city/board.rollup.ts';
import { createDb, type Db } from '../../server/db/db.ts';
import { createMigrator } from '../../server/db/migrate.ts';
import { createCalendar } from '../../server/decisions/working-days.ts';
import { seedCatalogue } from '../../server/city/catalogue.seed.ts';
import { createLogger } from '../../server/logger.ts';

let s: Awaited<ReturnType<typeof cityTestServer>>;
let api: ReturnType<typeof cityApi>;
let resident: TestActor, mod: TestActor, housingStaff: TestActor, councilStaff: TestActor;
let housing: number, council: number;
const OFFSET = 180;

beforeAll(async () => {
  s = await cityTestServer({ CITY_UTC_OFFSET_MINUTES: String(OFFSET) });
  api = cityApi(s.url);
  housing = (await s.ctx.city!.catalogue.propose('roof_leak', 'arbat'))!.id;
  council = (await s.ctx.city!.catalogue.propose('playground', 'arbat'))!.id;
  [resident, mod, housingStaff, councilStaff] = await Promise.all([
    cityUser(s.ctx), cityUser(s.ctx, ['moderator']), cityUser(s.ctx, ['responder'], [housing]), cityUser(s.ctx, ['responder'], [council]),
  ]);
});
afterAll(async () => {
  await s?.close();
});

const ok = async (p: Promise<{ status: number; body: any }>) => {
  const r = await p;
  expect(r.status, JSON.stringify(r.body)).toBeLessThan(300);
  return r.body;
};
const fileOne = async (over: Record<string, string> = {}) => (await ok(api.file(resident, reportFields(over)))).id as number;
const route = (id: number, organisationId = housing) => ok(api.post(mod, `/reports/${id}/route`, { organisationId }));
const answer = (id: number, outcome = 'fixed', who = housingStaff) =>
  ok(api.answer(who, id, { text: 'Ответ организации', outcome, ...(outcome === 'planned' ? { plannedFor: '2030-05-01' } : {}) }));
/** The open cycle's deadline moves into the past (as the clock would move past it). */
const pastDeadline = async (id: number) => {
  const db = s.ctx.city!.db;
  await sql`update city_cycles set deadline = now() - interval '1 minute' where report_id = ${id} and answered_at is null`.execute(db);
  await sql`update city_reports set deadline = now() - interval '1 minute' where id = ${id}`.execute(db);
};

type Row = Omit<RecountedRow, 'hist'> & { hist: Record<string, number> };
const sorted = (rows: Row[]) =>
  rows
    .filter((r) => r.received || r.answered || r.on_time || r.disputed || r.overdue_open || Object.keys(r.hist).length)
    .sort((a, b) => `${a.scope}|${a.key}|${a.span}|${a.day}`.localeCompare(`${b.scope}|${b.key}|${b.span}|${b.day}`));

/** The rollup as the steps kept it, histograms as {working days: answers} (non-zero buckets). */
async function kept(db: Db = s.ctx.city!.db): Promise<Row[]> {
  const { rows } = await sql<Omit<Row, 'hist'> & { answer_days: (number | null)[] }>`
    select scope, key, span, to_char(day, 'YYYY-MM-DD') as day, received, answered, on_time, disputed, overdue_open, answer_days from city_board_rollup
  `.execute(db);
  return sorted(rows.map(({ answer_days, ...r }) => ({ ...r, hist: Object.fromEntries(answer_days.flatMap((n, i) => (n ? [[String(i), n]] : []))) })));
}
const recounted = async (db: Db = s.ctx.city!.db) => sorted((await recountBoard(OFFSET).execute(db)).rows);

describe('Our City board: the rollup the steps keep equals a count from the answer cycles', () => {
  it('when reports are answered on time, late, not at all (escalated or not), disputed, re-routed, merged and rejected, then every rollup row equals the recount and the board equals a direct count', async () => {
    const jobs = s.ctx.city!.jobs;
    // on time, confirmed
    const onTime = await fileOne();
    await route(onTime);
    await answer(onTime);
    await ok(api.post(resident, `/reports/${onTime}/confirm`));
    // late: the deadline passes, escalation marks it, then the answer comes
    const late = await fileOne();
    await route(late);
    await pastDeadline(late);
    expect(await jobs.deadline('escalated', late, 1)).toBe(true);
    await answer(late);
    // overdue now, escalated
    const overdue = await fileOne();
    await route(overdue);
    await pastDeadline(overdue);
    expect(await jobs.deadline('escalated', overdue, 1)).toBe(true);
    // overdue now, no worker has run
    const unmarked = await fileOne();
    await route(unmarked);
    await pastDeadline(unmarked);
    // open, not due yet
    await route(await fileOne());
    // planned, disputed (a new cycle, not a new report), answered again late after escalation
    const disputed = await fileOne();
    await route(disputed);
    await answer(disputed, 'planned');
    await ok(api.post(resident, `/reports/${disputed}/dispute`, { comment: 'Ничего не сделано' }));
    await pastDeadline(disputed);
    expect(await jobs.deadline('escalated', disputed, 2)).toBe(true);
    await answer(disputed);
    // not ours after escalation: back to moderation, re-routed to the council, answered there
    const rerouted = await fileOne({ category: 'playground' });
    await route(rerouted);
    await pastDeadline(rerouted);
    expect(await jobs.deadline('escalated', rerouted, 1)).toBe(true);
    await answer(rerouted, 'not_ours');
    await route(rerouted, council);
    await answer(rerouted, 'fixed', councilStaff);
    // merged into the overdue one, and a rejected one: never routed, not on the board
    await ok(api.post(mod, `/reports/${await fileOne()}/merge`, { into: overdue }));
    await ok(api.post(mod, `/reports/${await fileOne()}/reject`, { reason: 'insufficient_details', comment: 'Нет номера дома' }));

    const rollup = await kept();
    expect(rollup.length).toBeGreaterThan(0);
    expect(rollup).toEqual(await recounted());

    // the board: sums of the rollup for the figures kept per routing day, "overdue now" as a count of every open
    // cycle past its deadline (escalated or not)
    const db = s.ctx.city!.db;
    for (const by of ['organisation', 'district'] as const) {
      const board = (await ok(api.get(`/board?by=${by}`))).rows as any[];
      const days = rollup.filter((r) => r.scope === by && r.span === 1);
      const col = by === 'organisation' ? sql`organisation_id::text` : sql`district`;
      const { rows: open } = await sql<{ key: string; n: number }>`select ${col} as key, count(*)::int n from city_cycles where answered_at is null and deadline < now() group by 1`.execute(db);
      const keys = [...new Set(days.map((d) => d.key))].sort();
      expect(board.map((r) => r.key).sort()).toEqual(keys);
      for (const key of keys) {
        const sum = (f: 'received' | 'answered' | 'on_time' | 'disputed') => days.filter((d) => d.key === key).reduce((a, d) => a + d[f], 0);
        const overdueNow = open.find((o) => o.key === key)?.n ?? 0;
        const share = (n: number, d: number) => (d > 0 ? Math.round((n / d) * 1000) / 1000 : null);
        expect(board.find((r) => r.key === key)).toMatchObject({
          received: sum('received'), answered: sum('answered'), overdueNow,
          answeredOnTimeShare: share(sum('on_time'), sum('answered') + overdueNow), disputedShare: share(sum('disputed'), sum('answered')),
        });
      }
    }
    const housingRow = (await ok(api.get('/board?by=organisation'))).rows.find((r: any) => r.key === String(housing));
    // received: 7 routings to housing (the dispute's new cycle is the same report); answered: on time, late, planned,
    // disputed's second answer, not ours; overdue now: the escalated and the unmarked one
    expect(housingRow).toMatchObject({ received: 7, answered: 5, overdueNow: 2, disputedShare: 0.2 });
    const councilRow = (await ok(api.get('/board?by=organisation'))).rows.find((r: any) => r.key === String(council));
    expect(councilRow).toMatchObject({ received: 1, answered: 1, overdueNow: 0, answeredOnTimeShare: 1 });

    // a rebuild from the cycles changes nothing the board shows
    const before = await ok(api.get('/board?by=district'));
    await rebuildBoardRollup(db, OFFSET);
    expect(await kept()).toEqual(rollup);
    expect(await ok(api.get('/board?by=district'))).toEqual(before);
  });
});

describe('migration 0004 on a database that had day rows only', () => {
  it('when answer cycles and their day rows (as the steps wrote them before) are migrated, then every block and "overdue now" equals the recount', async () => {
    const { db } = createDb(await createTestDatabase('mig'), { max: 2, connectTimeoutMs: 5000, logger: createLogger({ name: 'test', level: 'silent' }) });
    try {
      const migrator = createMigrator(db, { cityUtcOffsetMinutes: OFFSET, calendar: createCalendar({ utcOffsetMinutes: OFFSET }) });
      expect((await migrator.migrateTo('0003-poll-archive')).error).toBeUndefined();
      await seedCatalogue(db);
      const [a, b] = (await sql<{ id: number }>`select id from city_organisations order by id limit 2`.execute(db)).rows.map((r) => r.id);
      // 60 reports over 60 days (across block edges; routed at 01, 06, 11, 16 and 21 h UTC: 21 h is the next
      // day in Moscow): answered on time, late after escalation, open and escalated, open past the deadline
      // unmarked, disputed (a second cycle), not ours (re-routed)
      await sql`
        insert into city_reports (reporter_id, category, district, okrug, address, address_key, description, status)
        select 1, 'road', case when i % 2 = 0 then 'arbat' else 'tverskoy' end, 'cao', 'Арбат, ' || i, 'арбат ' || i, 'Яма на дороге номер ' || i, 'routed'
        from generate_series(1, 60) i
      `.execute(db);
      await sql`
        with n as (select id, row_number() over (order by id) i from city_reports),
             r as (select id, i, date_trunc('day', now()) - i * interval '1 day' + (1 + (i % 5) * 5) * interval '1 hour' routed from n)
        insert into city_cycles (report_id, seq, organisation_id, district, routed_at, deadline, answered_at, answer_working_days, outcome, disputed, escalated_at)
        select r.id, 1, case when i % 2 = 0 then ${a}::int else ${b}::int end, case when i % 2 = 0 then 'arbat' else 'tverskoy' end, routed, routed + interval '8 days',
               case i % 6 when 0 then routed + interval '2 days' when 1 then routed + interval '9 days' when 4 then routed + interval '3 days' when 5 then routed + interval '1 day' end,
               case i % 6 when 0 then 2 when 1 then 9 when 4 then 3 when 5 then 1 end,
               case i % 6 when 0 then 'fixed' when 1 then 'fixed' when 4 then 'planned' when 5 then 'not_ours' end,
               i % 6 = 4,
               case when i % 6 in (1, 2) and routed + interval '8 days' < now() then routed + interval '8 days' end
        from r where i % 6 <> 1 or routed + interval '9 days' < now()
      `.execute(db);
      await sql`
        insert into city_cycles (report_id, seq, organisation_id, district, routed_at, deadline)
        select report_id, 2, case when outcome = 'not_ours' then ${b}::int else organisation_id end, district, answered_at + interval '1 hour', answered_at + interval '9 days'
        from city_cycles where outcome in ('planned', 'not_ours')
      `.execute(db);
      // the day rows the steps kept before 0004 (no blocks, no overdue count)
      for (const r of (await recountBoard(OFFSET).execute(db)).rows.filter((x) => x.span === 1)) {
        const hist = Array.from({ length: Math.max(-1, ...Object.keys(r.hist).map(Number)) + 1 }, (_, k) => r.hist[String(k)] ?? 0);
        await sql`
          insert into city_board_daily (scope, key, day, received, answered, on_time, disputed, answer_days)
          values (${r.scope}, ${r.key}, ${r.day}::date, ${r.received}, ${r.answered}, ${r.on_time}, ${r.disputed}, ${hist}::int[])
        `.execute(db);
      }
      expect((await migrator.migrateToLatest()).error).toBeUndefined();
      const rows = await kept(db);
      expect(rows.filter((r) => r.overdue_open > 0).length).toBeGreaterThan(0);
      expect(new Set(rows.map((r) => r.span)).size).toBe(10);
      expect(rows).toEqual(await recounted(db));
    } finally {
      await db.destroy();
    }
  });
});
