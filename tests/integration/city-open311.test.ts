import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cityApi, cityTestServer, cityUser, jpegWithGps, reportFields, type TestActor } from '../helpers/city.ts';

let s: Awaited<ReturnType<typeof cityTestServer>>;
let api: ReturnType<typeof cityApi>;
let resident: TestActor, moderator: TestActor;
const o311 = (path: string, init?: RequestInit) => fetch(`${s.url}/open311/v2${path}`, init);

beforeAll(async () => {
  s = await cityTestServer();
  api = cityApi(s.url);
  [resident, moderator] = await Promise.all([cityUser(s.ctx), cityUser(s.ctx, ['moderator'])]);
});
afterAll(async () => {
  await s?.close();
});

describe('Open311 GeoReport v2 (JSON)', () => {
  it('when discovery and services are read, then the categories are services with the district as their one required attribute', async () => {
    const d = (await (await o311('/discovery.json')).json()) as any;
    expect(d.endpoints[0]).toMatchObject({ specification: 'http://wiki.open311.org/GeoReport_v2', formats: ['application/json'] });
    const services = (await (await o311('/services.json')).json()) as any[];
    expect(services.length).toBeGreaterThanOrEqual(12);
    expect(services.find((x) => x.service_code === 'road')).toMatchObject({ service_name: 'Дорожное покрытие, ямы', metadata: true, type: 'realtime' });
    const def = (await (await o311('/services/road.json')).json()) as any;
    expect(def.service_code).toBe('road');
    expect(def.attributes[0]).toMatchObject({ code: 'district', required: true, datatype: 'singlevaluelist' });
    expect((await o311('/services/nope.json')).status).toBe(404);
  });

  it('when a signed-in resident POSTs requests.json form-encoded, then a report is filed and its service_request_id comes back; anonymous gets 401', async () => {
    const form = new URLSearchParams({ service_code: 'road', 'attribute[district]': 'tverskoy', address_string: 'Тверская ул., 7', description: 'Глубокая яма на проезжей части у перехода', lat: '55.7616', long: '37.6094' });
    const anon = await o311('/requests.json', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'http://app.test' }, body: form });
    expect(anon.status).toBe(401);
    const r = await o311('/requests.json', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: resident.cookie, origin: 'http://app.test' }, body: form });
    expect(r.status).toBe(201);
    const [created] = (await r.json()) as any[];
    expect(created.service_request_id).toMatch(/^\d+$/);
    const bad = await o311('/requests.json', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: resident.cookie, origin: 'http://app.test' }, body: new URLSearchParams({ service_code: 'road', description: 'без района и адреса' }) });
    expect(bad.status).toBe(400);
  });

  it('when requests are read, then fields are mapped per spec (status open/closed + status_notes, agency_responsible, expected_datetime, media_url, address, lat/long) and no reporter data is served', async () => {
    const filed = await api.file(resident, reportFields({ category: 'lighting', district: 'arbat', lat: '55.75', lng: '37.59' }), [await jpegWithGps()]);
    const id = filed.body.id;
    const org = (await s.ctx.city!.catalogue.propose('lighting', 'arbat'))!;
    await api.post(moderator, `/reports/${id}/route`, { organisationId: org.id });
    const [one] = (await (await o311(`/requests/${id}.json`)).json()) as any[];
    expect(one).toMatchObject({
      service_request_id: String(id),
      status: 'open',
      status_notes: 'routed',
      service_code: 'lighting',
      agency_responsible: org.name.ru,
      address: filed.body.address,
      lat: 55.75,
      long: 37.59,
    });
    expect(Date.parse(one.expected_datetime)).toBeGreaterThan(Date.now());
    expect(one.media_url).toMatch(new RegExp(`/api/city/photos/${filed.body.photos[0].hash}\\.jpg$`));
    expect((await fetch(one.media_url)).status).toBe(200);
    const text = JSON.stringify(one);
    for (const secret of [resident.user.phone, 'reporter', String(resident.user.id) + ',']) expect(text).not.toContain(secret);
    expect(Object.keys(one)).not.toContain('account_id');

    await api.post(moderator, `/reports/${(await api.file(resident, reportFields({ category: 'lighting' }))).body.id}/reject`, { reason: 'not_a_defect', comment: 'Фонарь работает' });
    const open = (await (await o311('/requests.json?service_code=lighting&status=open')).json()) as any[];
    const closed = (await (await o311('/requests.json?service_code=lighting&status=closed')).json()) as any[];
    expect(open.map((x) => x.status)).toEqual(['open']);
    expect(closed.map((x) => [x.status, x.status_notes])).toEqual([['closed', 'rejected']]);
    const future = (await (await o311(`/requests.json?start_date=${encodeURIComponent(new Date(Date.now() + 86_400_000).toISOString())}`)).json()) as any[];
    expect(future).toEqual([]);
    expect((await o311('/requests.json?status=maybe')).status).toBe(400);
    expect((await o311('/requests.json?start_date=yesterday')).status).toBe(400);
    expect((await o311('/requests/0.json')).status).toBe(400);
    expect((await o311('/requests/999999.json')).status).toBe(404);
  });
});
