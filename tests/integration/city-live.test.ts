import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cityApi, cityTestServer, cityUser, reportFields, type TestActor } from '../helpers/city.ts';
import { connectSocket, type ClientSocket } from '../helpers/sockets.ts';
import type { CityQueueFrame, CityReportFrame } from '../../shared/city.ts';

let s: Awaited<ReturnType<typeof cityTestServer>>;
let api: ReturnType<typeof cityApi>;
let resident: TestActor, moderator: TestActor, responder: TestActor, other: TestActor, follower: TestActor;
let org: number;
const sockets: ClientSocket[] = [];

beforeAll(async () => {
  s = await cityTestServer();
  api = cityApi(s.url);
  org = (await s.ctx.city!.catalogue.propose('roof_leak', 'khamovniki'))!.id;
  [resident, moderator, responder, other, follower] = await Promise.all([
    cityUser(s.ctx), cityUser(s.ctx, ['moderator']), cityUser(s.ctx, ['responder'], [org]), cityUser(s.ctx), cityUser(s.ctx),
  ]);
});
afterAll(async () => {
  for (const x of sockets) x.close();
  await s?.close();
});

const socketOf = async (a?: TestActor) => {
  const x = await connectSocket(s.url, { cookie: a?.cookie });
  sockets.push(x);
  return x;
};
/** The first frame of `event` that `pred` accepts. */
const next = <T>(x: ClientSocket, event: 'city:queue' | 'city:report', pred: (f: T) => boolean) =>
  new Promise<T>((res) => {
    const on = (f: T) => {
      if (!pred(f)) return;
      x.off(event, on as never);
      res(f);
    };
    x.on(event, on as never);
  });

describe('Our City live: the moderation queue, organisation inboxes and report watchers update without reload', () => {
  it('when a resident files, then the moderators\' queue gets the new report; when it is routed, then the organisation\'s inbox and the report\'s watchers get the step', async () => {
    const mod = await socketOf(moderator);
    const ack = await mod.emitWithAck('city:queue:watch');
    expect(ack).toEqual({ ok: true, data: { moderation: true, organisationIds: [] } });
    const resp = await socketOf(responder);
    expect(await resp.emitWithAck('city:queue:watch')).toEqual({ ok: true, data: { moderation: false, organisationIds: [org] } });

    const filedFrame = next<CityQueueFrame>(mod, 'city:queue', (f) => f.step === 'submitted');
    const filed = await api.file(resident, reportFields({ district: 'khamovniki' }));
    expect(filed.status).toBe(201);
    expect(await filedFrame).toMatchObject({ reportId: filed.body.id, status: 'submitted', category: 'roof_leak', district: 'khamovniki', organisationId: null });

    const watcher = await socketOf();
    expect(await watcher.emitWithAck('city:watch', { reportId: filed.body.id })).toEqual({ ok: true, data: { reportId: filed.body.id } });
    const inboxFrame = next<CityQueueFrame>(resp, 'city:queue', (f) => f.reportId === filed.body.id);
    const watchFrame = next<CityReportFrame>(watcher, 'city:report', (f) => f.reportId === filed.body.id);
    await api.post(moderator, `/reports/${filed.body.id}/route`, { organisationId: org });
    expect(await inboxFrame).toMatchObject({ step: 'routed', status: 'routed', organisationId: org, overdue: false });
    expect(await watchFrame).toMatchObject({ step: 'routed', seq: 2 });
  });

  it('when a resident or an anonymous socket asks for the staff queue, or a payload is bad, then the ack is an error', async () => {
    const anon = await socketOf();
    expect(await anon.emitWithAck('city:queue:watch')).toMatchObject({ ok: false, error: { code: 'unauthenticated' } });
    const res = await socketOf(other);
    expect(await res.emitWithAck('city:queue:watch')).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    expect(await res.emitWithAck('city:watch', { reportId: -1 } as never)).toMatchObject({ ok: false, error: { code: 'bad_request' } });
  });

  it('when a resident follows a district, then a new report there reaches their inbox as an area alert', async () => {
    expect((await api.put(follower, '/my/alerts', { districts: ['khamovniki'], categories: [] })).body).toEqual({ districts: ['khamovniki'], categories: [] });
    const x = await socketOf(follower);
    const alert = new Promise<{ kind: string; reportId?: number }>((r) => x.on('notification', (n) => n.kind === 'city.alert' && r(n)));
    const filed = await api.file(resident, reportFields({ district: 'khamovniki', category: 'yard' }));
    expect(await alert).toMatchObject({ kind: 'city.alert', reportId: filed.body.id });
    const far = await api.file(resident, reportFields({ district: 'sokol', category: 'yard' }));
    const inbox = await s.ctx.notifications.list(follower.user.id, 0, 50);
    expect(inbox.items.map((n) => n.reportId)).not.toContain(far.body.id);
  });
});
