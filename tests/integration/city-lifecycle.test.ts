import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { cityTestServer, cityUser, formHeaders, jpegWithGps, reportFields, reportForm, type TestActor } from '../helpers/city.ts';
import { CONFIRM_POINTS, type Report } from '../../shared/city.ts';

let s: Awaited<ReturnType<typeof cityTestServer>>;
let resident: TestActor, moderator: TestActor, responder: TestActor, neighbour: TestActor;
let orgId: number;

beforeAll(async () => {
  s = await cityTestServer();
  orgId = (await s.ctx.city!.catalogue.propose('roof_leak', 'arbat'))!.id;
  [resident, moderator, responder, neighbour] = await Promise.all([
    cityUser(s.ctx),
    cityUser(s.ctx, ['moderator']),
    cityUser(s.ctx, ['responder'], [orgId]),
    cityUser(s.ctx),
  ]);
});
afterAll(async () => {
  await s?.close();
});

const post = (a: TestActor, path: string, body?: unknown) =>
  fetch(`${s.url}/api/city${path}`, { method: 'POST', headers: a.headers, body: body === undefined ? undefined : JSON.stringify(body) });
const file = (a: TestActor, fields: Record<string, string>, photos: Buffer[] = []) =>
  fetch(`${s.url}/api/city/reports`, { method: 'POST', headers: formHeaders(a), body: reportForm(fields, photos) });
const answer = (a: TestActor, id: number, fields: Record<string, string>, photos: Buffer[] = []) =>
  fetch(`${s.url}/api/city/reports/${id}/answer`, { method: 'POST', headers: formHeaders(a), body: reportForm(fields, photos) });

describe('Our City: a report through its whole life (real Postgres + Redis)', () => {
  it('when the catalogue is read, then 12+ categories with ru/en names and generated organisations are there, and routing proposes the district housing service', async () => {
    const cats = (await (await fetch(`${s.url}/api/city/categories`)).json()) as any;
    expect(cats.items.length).toBeGreaterThanOrEqual(12);
    expect(cats.items.find((c: any) => c.code === 'roof_leak')).toMatchObject({ name: { ru: 'Протечка кровли', en: 'Roof leak' }, orgKind: 'housing' });
    const prop = (await (await fetch(`${s.url}/api/city/route-proposal?category=roof_leak&district=arbat`)).json()) as any;
    expect(prop.organisation).toMatchObject({ slug: 'housing-arbat', kind: 'housing', districts: ['arbat'] });
    const road = (await (await fetch(`${s.url}/api/city/route-proposal?category=road&district=arbat`)).json()) as any;
    expect(road.organisation).toMatchObject({ slug: 'city-roads', districts: [] });
  });

  it('when a resident files, a moderator routes, the organisation answers, the resident disputes, it is answered again and confirmed, then each step is on the timeline once, points are credited once and the board counts it', async () => {
    const photo = await jpegWithGps();
    const created = await file(resident, reportFields(), [photo]);
    expect(created.status).toBe(201);
    const report = (await created.json()) as Report;
    expect(report.status).toBe('submitted');
    expect(report.photos).toHaveLength(1);

    // the stored photo: re-encoded JPEG without EXIF/GPS, with a thumbnail, served with cache headers
    const img = await fetch(`${s.url}${report.photos[0]!.url}`);
    expect(img.status).toBe(200);
    expect(img.headers.get('content-type')).toBe('image/jpeg');
    expect(img.headers.get('cache-control')).toMatch(/immutable/);
    const bytes = Buffer.from(await img.arrayBuffer());
    const meta = await sharp(bytes).metadata();
    expect(meta.exif).toBeUndefined();
    expect(bytes.includes(Buffer.from('SecretPhone'))).toBe(false);
    expect((await sharp(photo).metadata()).exif).toBeDefined();
    expect((await fetch(`${s.url}${report.photos[0]!.thumbUrl}`)).status).toBe(200);

    // "me too"
    const sup = await post(neighbour, `/reports/${report.id}/support`);
    expect(sup.status).toBe(200);
    expect(((await sup.json()) as any).supporters).toBe(1);

    const routed = await post(moderator, `/reports/${report.id}/route`, { organisationId: orgId });
    expect(routed.status).toBe(200);
    const r1 = (await routed.json()) as Report;
    expect(r1).toMatchObject({ status: 'routed', organisationId: orgId, overdue: false });
    expect(Date.parse(r1.deadline!)).toBeGreaterThan(Date.now());

    const inbox = (await (await fetch(`${s.url}/api/city/inbox`, { headers: responder.headers })).json()) as any;
    expect(inbox.items.map((i: any) => i.id)).toContain(report.id);

    const a1 = await answer(responder, report.id, { text: 'Кровля отремонтирована', outcome: 'fixed' }, [await jpegWithGps({ width: 80 })]);
    expect(a1.status).toBe(200);
    expect(((await a1.json()) as Report).status).toBe('answered');

    const disputed = await post(resident, `/reports/${report.id}/dispute`, { comment: 'Всё ещё течёт' });
    expect(disputed.status).toBe(200);
    const r2 = (await disputed.json()) as Report;
    expect(r2).toMatchObject({ status: 'routed', disputes: 1 });

    const a2 = await answer(responder, report.id, { text: 'Повторно заменили покрытие', outcome: 'fixed' });
    expect(a2.status).toBe(200);
    const confirmed = await post(resident, `/reports/${report.id}/confirm`);
    expect(confirmed.status).toBe(200);
    const done = (await confirmed.json()) as Report;
    expect(done).toMatchObject({ status: 'closed', resolution: 'confirmed' });
    expect(done.timeline.map((t) => t.step)).toEqual(['submitted', 'routed', 'answered', 'disputed', 'answered', 'confirmed']);
    expect(done.timeline[2]!.photos).toHaveLength(1);

    // a second confirm is a 409 and credits nothing more
    expect((await post(resident, `/reports/${report.id}/confirm`)).status).toBe(409);
    const points = (await (await fetch(`${s.url}/api/me/points`, { headers: resident.headers })).json()) as any;
    expect(points.ledger.filter((e: any) => e.reason === 'report' && e.ref === String(report.id))).toHaveLength(1);
    expect(points.ledger.find((e: any) => e.reason === 'report').delta).toBe(CONFIRM_POINTS);

    // the public view hides who the reporter is; staff see the moderator's name
    const pub = (await (await fetch(`${s.url}/api/city/reports/${report.id}`)).json()) as Report;
    expect(pub.timeline.every((t) => t.actorName === null)).toBe(true);
    expect(JSON.stringify(pub)).not.toContain(resident.user.phone);
    const staffView = (await (await fetch(`${s.url}/api/city/reports/${report.id}`, { headers: moderator.headers })).json()) as Report;
    expect(staffView.timeline[1]!.actorName).toBe('Test Resident');
    expect(staffView.timeline[0]!.actorName).toBeNull();

    // the supporter was told about every step
    const inboxN = (await (await fetch(`${s.url}/api/me/notifications?limit=50`, { headers: neighbour.headers })).json()) as any;
    expect(inboxN.items.filter((n: any) => n.reportId === report.id).length).toBe(5);

    const board = (await (await fetch(`${s.url}/api/city/board?by=organisation`)).json()) as any;
    const row = board.rows.find((x: any) => x.key === String(orgId));
    expect(row).toMatchObject({ received: 1, answered: 2, answeredOnTimeShare: 1, overdueNow: 0, disputedShare: 0.5 });
    expect(row.medianAnswerWorkingDays).toBe(0);
    const byDistrict = (await (await fetch(`${s.url}/api/city/board?by=district&okrug=cao`)).json()) as any;
    expect(byDistrict.rows.find((x: any) => x.key === 'arbat')).toMatchObject({ received: 1, answered: 2, name: { ru: 'Арбат', en: 'Arbat' } });
    const elsewhere = (await (await fetch(`${s.url}/api/city/board?by=district&okrug=sao`)).json()) as any;
    expect(elsewhere.rows.find((x: any) => x.key === 'arbat')).toBeUndefined();
    const before = (await (await fetch(`${s.url}/api/city/board?by=organisation&from=2020-01-01&to=2020-12-31`)).json()) as any;
    expect(before.rows).toEqual([]);
  });
});
