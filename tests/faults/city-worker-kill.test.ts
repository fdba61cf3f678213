import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { freePort } from '../../server/redis/redis-server.ts';
import type { AppContext } from '../../server/context.ts';
import { until } from '../helpers/processes.ts';
import { faultContext, faultRedis, kill9, makeStaff, makeVoters, pool, processEnv, processRegistry, spawnServer, spawnWorker, type FaultRedis } from '../helpers/faults.ts';
import { faultPostgres, type FaultPostgres } from '../helpers/city-faults.ts';
import { reportFields, reportForm } from '../helpers/city.ts';

const N = 60;

describe('faults: kill -9 of the worker around Our City deadline jobs (real server and worker processes)', () => {
  const procs = processRegistry();
  let redis: FaultRedis;
  let pgs: FaultPostgres;
  let ctx: AppContext;
  let url: string;
  let env: Record<string, string | undefined>;

  beforeAll(async () => {
    [redis, pgs] = await Promise.all([faultRedis('city-worker-kill', 'always'), faultPostgres('worker')]);
    const prefix = 'f:city-wk:';
    // the sweep would escalate too (exactly once still holds); slowed right down here so the delayed jobs do the work
    const extra = { DATABASE_URL: pgs.url, CITY_REPORTS_PER_DAY: '1000', CITY_SWEEP_MS: '3600000', WORKER_CONCURRENCY: '1' };
    ctx = faultContext(redis.url, prefix, extra);
    env = processEnv(redis.url, prefix, extra);
    url = procs.add(await spawnServer(env, await freePort())).url;
    await ctx.city!.init();
  });
  afterAll(async () => {
    await procs.killAll();
    await ctx?.close().catch(() => {});
    await pgs?.destroy();
    await redis?.destroy();
  });

  it('when deadlines pass with the worker down, then every report shows overdue; when the worker is killed mid-escalation and restarted, then each deadline is escalated exactly once (timeline and inboxes), also across a re-route', async () => {
    const [moderator, official] = await Promise.all([makeStaff(ctx, '+79990777001', ['moderator']), makeStaff(ctx, '+79990777002', ['official'])]);
    const responder = await makeStaff(ctx, '+79990777003', ['responder']);
    const residents = await makeVoters(ctx, 10, 700_000);
    const org = (await ctx.city!.catalogue.propose('roof_leak', 'arbat'))!.id;
    await ctx.city!.catalogue.bindResponder(responder.user.id, [org]);

    const ids = await pool(Array.from({ length: N }, (_, i) => i), 6, async (i) => {
      const who = residents[i % residents.length]!;
      const r = await fetch(`${url}/api/city/reports`, { method: 'POST', headers: { cookie: who.cookie, origin: who.headers.origin! }, body: reportForm(reportFields({ address: `Дедлайн-лейн ${i}` })) });
      expect(r.status).toBe(201);
      const id = ((await r.json()) as any).id as number;
      const routed = await fetch(`${url}/api/city/reports/${id}/route`, { method: 'POST', headers: moderator.headers, body: JSON.stringify({ organisationId: org }) });
      expect(routed.status).toBe(200);
      return id;
    });
    // one report is answered "not ours" and routed again: its first deadline's job must do nothing
    const rerouted = ids[0]!;
    const ans = await fetch(`${url}/api/city/reports/${rerouted}/answer`, { method: 'POST', headers: { cookie: responder.cookie, origin: responder.headers.origin! }, body: reportForm({ text: 'Не наше', outcome: 'not_ours' }) });
    expect(ans.status).toBe(200);
    expect((await fetch(`${url}/api/city/reports/${rerouted}/route`, { method: 'POST', headers: moderator.headers, body: JSON.stringify({ organisationId: org }) })).status).toBe(200);

    // every deadline is now in the past; no worker runs
    await sql`update city_cycles set deadline = now() - interval '1 second'`.execute(ctx.city!.db);
    await sql`update city_reports set deadline = now() - interval '1 second'`.execute(ctx.city!.db);
    const overdue = (await (await fetch(`${url}/api/city/reports?overdue=true&pageSize=100`)).json()) as any;
    expect(overdue.total).toBe(N);

    // the delayed escalation jobs come due now (both cycles of the re-routed report among them)
    const delayed = (await ctx.queues.city.getDelayed(0, 1000)).filter((j) => j.name === 'escalate');
    expect(delayed.length).toBe(N + 1);
    await Promise.all(delayed.map((j) => j.promote()));

    const escalatedCount = async () => Number((await sql<{ n: number }>`select count(*)::int n from city_cycles where escalated_at is not null`.execute(ctx.city!.db)).rows[0]!.n);
    const w1 = procs.add(await spawnWorker(env));
    await until(async () => (await escalatedCount()) >= 5, 60_000);
    await kill9(w1);
    const atKill = await escalatedCount();
    expect(atKill).toBeLessThan(N);
    // overdue still shows with the worker dead
    expect(((await (await fetch(`${url}/api/city/reports/${ids[N - 1]}`)).json()) as any).overdue).toBe(true);

    const w2 = procs.add(await spawnWorker(env));
    await until(async () => (await escalatedCount()) === N, 120_000, 100);
    await until(async () => {
      const c = await ctx.queues.city.getJobCounts('active', 'waiting', 'prioritized');
      return c.active + c.waiting + c.prioritized === 0;
    }, 60_000, 100);
    await kill9(w2);

    const perReport = (await sql<{ report_id: number; n: number }>`select report_id, count(*)::int n from city_timeline where step = 'escalated' group by report_id`.execute(ctx.city!.db)).rows;
    expect(perReport.length).toBe(N);
    expect(perReport.every((r) => r.n === 1)).toBe(true);
    const firstCycle = await ctx.city!.db.selectFrom('city_cycles').select(['seq', 'escalated_at']).where('report_id', '=', rerouted).orderBy('seq').execute();
    expect(firstCycle[0]!.escalated_at).toBeNull();
    expect(firstCycle[1]!.escalated_at).not.toBeNull();
    for (const who of [moderator, official]) {
      const inbox = await ctx.notifications.list(who.user.id, 0, 500);
      const items = inbox.items.filter((n) => n.kind === 'city.escalation');
      expect(items.length).toBe(N);
      expect(new Set(items.map((n) => n.reportId)).size).toBe(N);
    }
  });
});
