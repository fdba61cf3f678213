import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { cityApi, cityTestServer, cityUser, createTestDatabase, reportFields, type TestActor } from '../helpers/city.ts';
import { testLogger } from '../helpers/context.ts';
import { until } from '../helpers/processes.ts';
import { startWorkers, type RunningWorker } from '../../server/worker.ts';
import { addWorkingDays, createCalendar } from '../../server/decisions/working-days.ts';
import { createDb } from '../../server/db/db.ts';
import { createMigrator } from '../../server/db/migrate.ts';
import { seedCatalogue } from '../../server/city/catalogue.seed.ts';
import { cityJobId } from '../../shared/jobs.ts';
import { REMINDER_WORKING_DAYS } from '../../shared/city.ts';

let s: Awaited<ReturnType<typeof cityTestServer>>;
let w: RunningWorker;
let api: ReturnType<typeof cityApi>;
let resident: TestActor, mod: TestActor, admin: TestActor, resp1: TestActor, resp2: TestActor, councilResp: TestActor;
let housing: number, council: number;

beforeAll(async () => {
  // the sweep runs only when a test calls it; the delayed jobs are promoted by hand
  s = await cityTestServer({ CITY_SWEEP_MS: '3600000', CITY_REPORTS_PER_DAY: '100' });
  w = await startWorkers(s.ctx.config, testLogger, { concurrency: 4 });
  api = cityApi(s.url);
  housing = (await s.ctx.city!.catalogue.propose('roof_leak', 'arbat'))!.id;
  council = (await s.ctx.city!.catalogue.propose('playground', 'arbat'))!.id;
  [resident, mod, admin, resp1, resp2, councilResp] = await Promise.all([
    cityUser(s.ctx), cityUser(s.ctx, ['moderator']), cityUser(s.ctx, ['admin']),
    cityUser(s.ctx, ['responder'], [housing]), cityUser(s.ctx, ['responder'], [housing]), cityUser(s.ctx, ['responder'], [council]),
  ]);
});
afterAll(async () => {
  await w?.close();
  await s?.close();
});

const db = () => s.ctx.city!.db;
const jobs = () => s.ctx.city!.jobs;
const queue = () => s.ctx.queues.city;

async function routed(category = 'roof_leak', to = housing): Promise<number> {
  const r = await api.file(resident, reportFields({ category }));
  expect(r.status).toBe(201);
  expect((await api.post(mod, `/reports/${r.body.id}/route`, { organisationId: to })).status).toBe(200);
  return r.body.id;
}
const cycleRow = (id: number, seq: number) => db().selectFrom('city_cycles').selectAll().where('report_id', '=', id).where('seq', '=', seq).executeTakeFirstOrThrow();
/** Time moves on: the cycle's reminder is due (its deadline stays ahead). */
const remindDue = (id: number, seq: number) => sql`update city_cycles set remind_at = now() - interval '1 second' where report_id = ${id} and seq = ${seq}`.execute(db());
const reminders = async (who: TestActor, id: number) => {
  const inbox = (await (await fetch(`${s.url}/api/me/notifications?limit=100`, { headers: who.headers })).json()) as any;
  return inbox.items.filter((n: any) => n.kind === 'city.reminder' && n.reportId === id).length;
};
const reminded = async (id: number) => (await api.get(`/reports/${id}`)).body.timeline.filter((t: any) => t.step === 'reminded');
/** Run the queued reminder job of a cycle now (the worker picks it up) and return what it did. */
async function runRemindJob(id: number, cycle: number): Promise<{ reminded: boolean }> {
  const job = (await queue().getJob(cityJobId('remind', { reportId: id, cycle })))!;
  expect(job).toBeTruthy();
  await job.promote();
  return until(async () => (await queue().getJob(job.id!))?.returnvalue as { reminded: boolean } | undefined);
}
const metric = async () => (await s.ctx.metrics.registry.getSingleMetric('ac_city_reminders_total')!.get()).values.reduce((a, v) => a + v.value, 0);

describe('Our City reminders 2 working days before the deadline', () => {
  it('when a report is routed, then its reminder job is due 2 working days before the deadline; when it runs (and is run again at once, and the sweep too), then each responder of the organisation gets one reminder, no one else does, and the timeline shows one "reminded" step', async () => {
    const id = await routed();
    const c = await cycleRow(id, 1);
    const days = (await s.ctx.city!.catalogue.category('roof_leak'))!.deadlineDays;
    expect(days).toBeGreaterThan(REMINDER_WORKING_DAYS);
    expect(c.remind_at!.getTime()).toBe(addWorkingDays(c.routed_at.getTime(), days - REMINDER_WORKING_DAYS, s.ctx.city!.calendar));
    const job = (await queue().getJob(cityJobId('remind', { reportId: id, cycle: 1 })))!;
    expect(Math.abs(job.timestamp + job.delay - c.remind_at!.getTime())).toBeLessThan(2_000);
    // not due yet: a run before its time does nothing
    expect(await jobs().deadline('reminded', id, 1)).toBe(false);

    await remindDue(id, 1);
    expect(await runRemindJob(id, 1)).toEqual({ reminded: true });
    const again = await Promise.all([jobs().deadline('reminded', id, 1), jobs().deadline('reminded', id, 1), jobs().sweep(testLogger)]);
    expect([again[0], again[1], again[2].reminded]).toEqual([false, false, 0]);

    expect([await reminders(resp1, id), await reminders(resp2, id)]).toEqual([1, 1]);
    expect([await reminders(councilResp, id), await reminders(resident, id), await reminders(mod, id)]).toEqual([0, 0, 0]);
    const steps = await reminded(id);
    expect(steps).toHaveLength(1);
    expect(steps[0]).toMatchObject({ actorRole: 'system', organisationId: housing, deadline: c.deadline.toISOString() });
    expect((await cycleRow(id, 1)).reminded_at).not.toBeNull();
  });

  it('when the report is answered, or answered "not ours" and routed elsewhere, before the reminder comes due, then the old cycle\'s reminder does nothing; a new cycle (re-route, dispute) has its own, once', async () => {
    const answered = await routed();
    expect((await api.answer(resp1, answered, { text: 'Починили', outcome: 'fixed' })).status).toBe(200);
    await remindDue(answered, 1);
    expect(await runRemindJob(answered, 1)).toEqual({ reminded: false });
    expect((await jobs().sweep(testLogger)).reminded).toBe(0);
    expect([await reminders(resp1, answered), (await reminded(answered)).length]).toEqual([0, 0]);

    const moved = await routed();
    expect((await api.answer(resp1, moved, { text: 'Не наша зона', outcome: 'not_ours' })).status).toBe(200);
    expect((await api.post(mod, `/reports/${moved}/route`, { organisationId: council })).status).toBe(200);
    await remindDue(moved, 1);
    expect(await runRemindJob(moved, 1)).toEqual({ reminded: false });
    expect([await reminders(resp1, moved), await reminders(councilResp, moved), (await reminded(moved)).length]).toEqual([0, 0, 0]);
    await remindDue(moved, 2);
    expect(await runRemindJob(moved, 2)).toEqual({ reminded: true });
    expect([await reminders(resp1, moved), await reminders(councilResp, moved), (await reminded(moved)).length]).toEqual([0, 1, 1]);

    // a dispute opens a new cycle with its own reminder: once per cycle
    const disputed = await routed();
    await remindDue(disputed, 1);
    expect(await runRemindJob(disputed, 1)).toEqual({ reminded: true });
    expect((await api.answer(resp1, disputed, { text: 'Починили', outcome: 'fixed' })).status).toBe(200);
    expect((await api.post(resident, `/reports/${disputed}/dispute`, { comment: 'Всё ещё течёт' })).status).toBe(200);
    expect((await cycleRow(disputed, 2)).remind_at).not.toBeNull();
    await remindDue(disputed, 2);
    expect(await runRemindJob(disputed, 2)).toEqual({ reminded: true });
    expect(await jobs().deadline('reminded', disputed, 2)).toBe(false);
    expect([await reminders(resp1, disputed), (await reminded(disputed)).length]).toEqual([2, 2]);
  });

  it('when a category\'s deadline is 2 working days or fewer, then no reminder is queued or swept (only the escalation); at 3 there is one', async () => {
    const patch = (deadlineDays: number) =>
      fetch(`${s.url}/api/city/categories/entrance`, { method: 'PATCH', headers: admin.headers, body: JSON.stringify({ deadlineDays }) }).then((r) => r.status);
    const org = (await s.ctx.city!.catalogue.propose('entrance', 'arbat'))!.id;
    try {
      for (const days of [1, 2]) {
        expect(await patch(days)).toBe(200);
        const id = await routed('entrance', org);
        expect((await cycleRow(id, 1)).remind_at).toBeNull();
        expect(await queue().getJob(cityJobId('remind', { reportId: id, cycle: 1 }))).toBeUndefined();
        expect(await queue().getJob(cityJobId('escalate', { reportId: id, cycle: 1 }))).toBeTruthy();
        expect([await jobs().deadline('reminded', id, 1), (await jobs().sweep(testLogger)).reminded]).toEqual([false, 0]);
        expect((await reminded(id)).length).toBe(0);
      }
      expect(await patch(3)).toBe(200);
      const id = await routed('entrance', org);
      const c = await cycleRow(id, 1);
      expect(c.remind_at!.getTime()).toBe(addWorkingDays(c.routed_at.getTime(), 1, s.ctx.city!.calendar));
      expect(await queue().getJob(cityJobId('remind', { reportId: id, cycle: 1 }))).toBeTruthy();
    } finally {
      await patch(8);
    }
  });

  it('when a reminder job was never queued (a crash right after the routing), then the sweep sends it once when due (one metric count), not before, and not once the deadline has passed', async () => {
    const id = await routed();
    await (await queue().getJob(cityJobId('remind', { reportId: id, cycle: 1 })))!.remove();
    expect((await jobs().sweep(testLogger)).reminded).toBe(0);
    await remindDue(id, 1);
    const before = await metric(); // this process's count (the worker keeps its own)
    const runs = await Promise.all([jobs().sweep(testLogger), jobs().sweep(testLogger)]);
    expect(runs[0].reminded + runs[1].reminded).toBe(1);
    expect(await metric()).toBe(before + 1);
    expect([await reminders(resp1, id), await reminders(resp2, id), (await reminded(id)).length]).toEqual([1, 1, 1]);

    // the worker was down past the deadline: escalation, not a late "deadline is near"
    const late = await routed();
    await sql`update city_cycles set remind_at = now() - interval '3 days', deadline = now() - interval '1 second' where report_id = ${late}`.execute(db());
    await sql`update city_reports set deadline = now() - interval '1 second' where id = ${late}`.execute(db());
    expect(await runRemindJob(late, 1)).toEqual({ reminded: false });
    const swept = await jobs().sweep(testLogger);
    expect([swept.reminded, swept.escalated]).toEqual([0, 1]);
    expect([await reminders(resp1, late), (await reminded(late)).length]).toEqual([0, 0]);
  });
});

describe('migration 0006 on a database with open answer cycles', () => {
  it('when cycles routed before it are migrated, then the open ones get the reminder time a routing now would give them, and answered, reminded or short ones get none', async () => {
    const calendar = createCalendar();
    const { db } = createDb(await createTestDatabase('remind'), { max: 2, connectTimeoutMs: 5000, logger: testLogger });
    try {
      const migrator = createMigrator(db, { cityUtcOffsetMinutes: calendar.utcOffsetMinutes, calendar });
      expect((await migrator.migrateTo('0005-report-list-indexes')).error).toBeUndefined();
      await seedCatalogue(db);
      const org = (await sql<{ id: number }>`select id from city_organisations order by id limit 1`.execute(db)).rows[0]!.id;
      await sql`
        insert into city_reports (reporter_id, category, district, okrug, address, address_key, description, status)
        select 1, 'road', 'arbat', 'cao', 'Арбат, ' || i, 'арбат ' || i, 'Яма на дороге номер ' || i, 'routed' from generate_series(1, 5) i
      `.execute(db);
      const ids = (await sql<{ id: number }>`select id from city_reports order by id`.execute(db)).rows.map((r) => Number(r.id));
      const routedAt = Date.parse('2026-11-23T10:00:00+03:00');
      // open with 8 and 3 working days, answered, already reminded, open with 2
      const cases = [
        { days: 8, answered: false, reminded: false, expected: addWorkingDays(routedAt, 6, calendar) },
        { days: 3, answered: false, reminded: false, expected: addWorkingDays(routedAt, 1, calendar) },
        { days: 8, answered: true, reminded: false, expected: null },
        { days: 8, answered: false, reminded: true, expected: null },
        { days: 2, answered: false, reminded: false, expected: null },
      ];
      for (const [k, c] of cases.entries()) {
        await db
          .insertInto('city_cycles')
          .values({
            report_id: ids[k], seq: 1, organisation_id: org, district: 'arbat', routed_at: new Date(routedAt),
            deadline: new Date(addWorkingDays(routedAt, c.days, calendar)),
            answered_at: c.answered ? new Date(routedAt + 3_600_000) : null,
            reminded_at: c.reminded ? new Date(routedAt + 3_600_000) : null,
          })
          .execute();
      }
      expect((await migrator.migrateToLatest()).error).toBeUndefined();
      const rows = await db.selectFrom('city_cycles').select(['report_id', 'remind_at']).orderBy('report_id').execute();
      expect(rows.map((r) => r.remind_at?.getTime() ?? null)).toEqual(cases.map((c) => c.expected));
    } finally {
      await db.destroy();
    }
  });
});
