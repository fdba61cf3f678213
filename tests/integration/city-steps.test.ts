import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { cityApi, cityTestServer, cityUser, reportFields, type TestActor } from '../helpers/city.ts';

let s: Awaited<ReturnType<typeof cityTestServer>>;
let api: ReturnType<typeof cityApi>;
let resident: TestActor, other: TestActor, mod1: TestActor, mod2: TestActor, resp1: TestActor, resp2: TestActor, official: TestActor, outsider: TestActor;
let housing: number, council: number;

beforeAll(async () => {
  s = await cityTestServer();
  api = cityApi(s.url);
  housing = (await s.ctx.city!.catalogue.propose('roof_leak', 'arbat'))!.id;
  council = (await s.ctx.city!.catalogue.propose('playground', 'arbat'))!.id;
  [resident, other, mod1, mod2, resp1, resp2, official, outsider] = await Promise.all([
    cityUser(s.ctx), cityUser(s.ctx), cityUser(s.ctx, ['moderator']), cityUser(s.ctx, ['moderator']),
    cityUser(s.ctx, ['responder'], [housing]), cityUser(s.ctx, ['responder'], [housing]), cityUser(s.ctx, ['official']),
    cityUser(s.ctx, ['responder'], [council]),
  ]);
});
afterAll(async () => {
  await s?.close();
});

const fileOne = async (a = resident, over: Record<string, string> = {}) => {
  const r = await api.file(a, reportFields(over));
  expect(r.status).toBe(201);
  return r.body.id as number;
};
const steps = async (id: number) => (await api.get(`/reports/${id}`)).body.timeline.map((t: any) => t.step);

describe('Our City lifecycle steps: atomic, checked, one timeline entry each', () => {
  it('when two moderators route the same report at once, then one wins, the other gets 409 invalid_state, and the timeline shows one routing', async () => {
    const id = await fileOne();
    const [a, b] = await Promise.all([api.post(mod1, `/reports/${id}/route`, { organisationId: housing }), api.post(mod2, `/reports/${id}/route`, { organisationId: council })]);
    expect([a.status, b.status].sort()).toEqual([200, 409]);
    expect([a, b].find((x) => x.status === 409)!.body.error.code).toBe('invalid_state');
    expect(await steps(id)).toEqual(['submitted', 'routed']);
    const cycles = await s.ctx.city!.db.selectFrom('city_cycles').selectAll().where('report_id', '=', id).execute();
    expect(cycles).toHaveLength(1);
  });

  it('when one moderator routes and another rejects at the same moment, then exactly one step lands', async () => {
    const id = await fileOne();
    const [a, b] = await Promise.all([
      api.post(mod1, `/reports/${id}/route`, { organisationId: housing }),
      api.post(mod2, `/reports/${id}/reject`, { reason: 'insufficient_details', comment: 'Нет номера дома' }),
    ]);
    expect([a.status, b.status].sort()).toEqual([200, 409]);
    expect((await steps(id)).length).toBe(2);
  });

  it('when two responders of the organisation answer at once, then one answer is recorded and the other gets 409', async () => {
    const id = await fileOne();
    expect((await api.post(mod1, `/reports/${id}/route`, { organisationId: housing })).status).toBe(200);
    const [a, b] = await Promise.all([
      api.answer(resp1, id, { text: 'Починили', outcome: 'fixed' }),
      api.answer(resp2, id, { text: 'Запланировано', outcome: 'planned', plannedFor: '2027-05-01' }),
    ]);
    expect([a.status, b.status].sort()).toEqual([200, 409]);
    expect((await steps(id)).filter((x: string) => x === 'answered')).toHaveLength(1);
  });

  it('when a report is rejected, then the reason and comment are on the timeline and it cannot be routed any more', async () => {
    const id = await fileOne();
    const bad = await api.post(mod1, `/reports/${id}/reject`, { reason: 'made_up', comment: 'x' });
    expect(bad.status).toBe(400);
    const r = await api.post(mod1, `/reports/${id}/reject`, { reason: 'not_city_property', comment: 'Частная территория' });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ status: 'rejected', rejectReason: 'not_city_property' });
    expect(r.body.timeline[1]).toMatchObject({ step: 'rejected', reason: 'not_city_property', note: 'Частная территория', actorRole: 'moderator' });
    expect((await api.post(mod1, `/reports/${id}/route`, { organisationId: housing })).status).toBe(409);
  });

  it('when a report is merged into an open duplicate, then its reporter and supporters become supporters of the target', async () => {
    const target = await fileOne(resident, { address: 'Новый Арбат, 10' });
    const dup = await fileOne(other, { address: 'Новый Арбат д. 10 корп 2', category: 'entrance' });
    await api.post(official, `/reports/${dup}/support`);
    const r = await api.post(mod1, `/reports/${dup}/merge`, { into: target });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ status: 'merged', mergedInto: target });
    expect((await api.get(`/reports/${target}`)).body.supporters).toBe(2);
    expect((await api.post(mod1, `/reports/${target}/merge`, { into: target })).status).toBe(400);
    expect((await api.post(mod1, `/reports/${dup}/merge`, { into: target })).status).toBe(409);
  });

  it('when the organisation answers "not ours", then the report goes back to moderation, the old deadline stays on record, and it can be routed elsewhere', async () => {
    const id = await fileOne();
    await api.post(mod1, `/reports/${id}/route`, { organisationId: housing });
    const a = await api.answer(resp1, id, { text: 'Это не наша зона', outcome: 'not_ours' });
    expect(a.status).toBe(200);
    expect(a.body).toMatchObject({ status: 'submitted', organisationId: null, deadline: null });
    expect(a.body.timeline.at(-1)).toMatchObject({ step: 'answered', outcome: 'not_ours', organisationId: housing });
    expect(a.body.timeline.at(-1).deadline).not.toBeNull();
    const rr = await api.post(mod2, `/reports/${id}/route`, { organisationId: council });
    expect(rr.status).toBe(200);
    const cycles = await s.ctx.city!.db.selectFrom('city_cycles').select(['seq', 'organisation_id', 'outcome']).where('report_id', '=', id).orderBy('seq').execute();
    expect(cycles).toEqual([{ seq: 1, organisation_id: housing, outcome: 'not_ours' }, { seq: 2, organisation_id: council, outcome: null }]);
    // the first organisation no longer sees it; the second does
    expect((await api.get('/inbox', resp1)).body.items.map((i: any) => i.id)).not.toContain(id);
    expect((await api.get('/inbox', outsider)).body.items.map((i: any) => i.id)).toContain(id);
  });

  it('when someone without the right role or relation acts, then 401/403 and nothing changes', async () => {
    const id = await fileOne();
    expect((await api.post(resident, `/reports/${id}/route`, { organisationId: housing })).status).toBe(403);
    expect((await fetch(`${s.url}/api/city/reports/${id}/route`, { method: 'POST', headers: { 'content-type': 'application/json', origin: 'http://app.test' }, body: '{"organisationId":1}' })).status).toBe(401);
    await api.post(mod1, `/reports/${id}/route`, { organisationId: housing });
    expect((await api.answer(outsider, id, { text: 'Готово', outcome: 'fixed' })).status).toBe(403);
    expect((await api.answer(resident, id, { text: 'Готово', outcome: 'fixed' })).status).toBe(403);
    await api.answer(resp1, id, { text: 'Готово', outcome: 'fixed' });
    expect((await api.post(other, `/reports/${id}/confirm`)).status).toBe(403);
    expect((await api.post(other, `/reports/${id}/dispute`, { comment: 'не так' })).status).toBe(403);
    expect((await api.post(resident, `/reports/${id}/support`)).status).toBe(409);
    expect(await steps(id)).toEqual(['submitted', 'routed', 'answered']);
  });

  it('when the 5 days to judge an answer have passed, then confirm and dispute get 409 and the sweep closes it by itself (once)', async () => {
    const id = await fileOne();
    await api.post(mod1, `/reports/${id}/route`, { organisationId: housing });
    await api.answer(resp1, id, { text: 'Сделано', outcome: 'fixed' });
    await sql`update city_reports set answered_at = answered_at - interval '6 days' where id = ${id}`.execute(s.ctx.city!.db);
    expect((await api.post(resident, `/reports/${id}/confirm`)).status).toBe(409);
    expect((await api.post(resident, `/reports/${id}/dispute`, { comment: 'Нет' })).status).toBe(409);
    const log = s.ctx.logger;
    await Promise.all([s.ctx.city!.jobs.sweep(log), s.ctx.city!.jobs.sweep(log)]);
    const r = (await api.get(`/reports/${id}`)).body;
    expect(r).toMatchObject({ status: 'closed', resolution: 'auto' });
    expect(r.timeline.filter((t: any) => t.step === 'closed')).toHaveLength(1);
    expect(r.timeline.at(-1).actorRole).toBe('system');
  });

  it('when the deadline passes unanswered, then the report shows overdue from the clock alone, and escalation (run many times at once) lands once: one timeline entry, one inbox item per moderator and official, one metric increment', async () => {
    const id = await fileOne();
    await api.post(mod1, `/reports/${id}/route`, { organisationId: housing });
    await sql`update city_reports set deadline = now() - interval '1 minute' where id = ${id}`.execute(s.ctx.city!.db);
    await sql`update city_cycles set deadline = now() - interval '1 minute' where report_id = ${id}`.execute(s.ctx.city!.db);
    // no job has run: overdue is computed from the clock
    expect((await api.get(`/reports/${id}`)).body.overdue).toBe(true);
    expect((await api.get(`/reports?overdue=true&pageSize=100`)).body.items.map((i: any) => i.id)).toContain(id);
    const metric = async () => (await s.ctx.metrics.registry.getSingleMetric('ac_city_escalations_total')!.get()).values.reduce((a, v) => a + v.value, 0);
    const before = await metric();
    const jobs = s.ctx.city!.jobs;
    const results = await Promise.all([jobs.deadline('escalated', id, 1), jobs.deadline('escalated', id, 1), jobs.sweep(s.ctx.logger), jobs.deadline('escalated', id, 1)]);
    expect(results.filter((x) => x === true).length + ((results[2] as any).escalated as number)).toBe(1);
    expect(await metric()).toBe(before + 1);
    const r = (await api.get(`/reports/${id}`)).body;
    expect(r.timeline.filter((t: any) => t.step === 'escalated')).toHaveLength(1);
    for (const who of [mod1, official]) {
      const inbox = (await (await fetch(`${s.url}/api/me/notifications?limit=100`, { headers: who.headers })).json()) as any;
      expect(inbox.items.filter((n: any) => n.kind === 'city.escalation' && n.reportId === id)).toHaveLength(1);
    }
    // a late answer still lands; escalation of the answered cycle is a no-op
    expect((await api.answer(resp1, id, { text: 'Поздно, но сделали', outcome: 'fixed' })).status).toBe(200);
    expect(await jobs.deadline('escalated', id, 1)).toBe(false);
    const board = (await api.get('/board?by=organisation')).body.rows.find((x: any) => x.key === String(housing));
    expect(board.answeredOnTimeShare).toBeLessThan(1);
  });
});
