import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cityApi, cityTestServer, cityUser, jpegWithGps, reportFields, type TestActor } from '../helpers/city.ts';
import { faultPostgres } from '../helpers/city-faults.ts';
import { open311ErrorSchema } from '../../shared/open311.ts';

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

  /** An Open311 error: the HTTP status, and the body [{code: that status, description}] (never the API's {error:…}). */
  const expectError = async (r: Response, status: number, description?: RegExp) => {
    const body = (await r.json()) as any;
    expect(r.status, JSON.stringify(body)).toBe(status);
    expect(open311ErrorSchema.parse(body)).toEqual([{ code: status, description: expect.any(String) }]);
    if (description) expect(body[0].description).toMatch(description);
    return body;
  };
  const post = (body: string, type: string, headers: Record<string, string> = { cookie: resident.cookie }) =>
    o311('/requests.json', { method: 'POST', headers: { 'content-type': type, origin: 'http://app.test', ...headers }, body });

  it('when a request is bad, then every error is GeoReport v2 shaped with its HTTP status: bad service_code, bad dates, missing fields, not found, not signed in, cross-origin, bad JSON, duplicate', async () => {
    await expectError(await o311('/services/Nope!.json'), 400, /service code/i);
    await expectError(await o311('/services/nope.json'), 404, /nope/);
    await expectError(await o311('/requests.json?service_code=Bad-Code'), 400, /service_code/);
    await expectError(await o311('/requests.json?start_date=yesterday'), 400, /start_date/);
    await expectError(await o311('/requests.json?end_date=2026-13-45T99:00:00Z'), 400, /end_date/);
    await expectError(await o311('/requests.json?status=maybe'), 400, /status/);
    await expectError(await o311('/requests/0.json'), 400);
    await expectError(await o311('/requests/999999.json'), 404, /999999/);
    await expectError(await o311('/no-such-endpoint.json'), 404);
    const form = (over: Record<string, string> = {}) =>
      new URLSearchParams({ service_code: 'road', 'attribute[district]': 'arbat', address_string: 'Арбат, 12', description: 'Яма посреди проезжей части у дома', ...over }).toString();
    const FORM = 'application/x-www-form-urlencoded';
    await expectError(await post(form({ service_code: 'no_such_service' }), FORM), 400, /category/i);
    await expectError(await post(new URLSearchParams({ service_code: 'road', description: 'Нет ни района, ни адреса у этой ямы' }).toString(), FORM), 400, /district|address/);
    await expectError(await post(new URLSearchParams({ 'attribute[district]': 'arbat', address_string: 'Арбат, 12' }).toString(), FORM), 400, /service_code/);
    await expectError(await post(form(), FORM, {}), 401);
    await expectError(await post(form(), FORM, { cookie: resident.cookie, origin: 'http://evil.test' }), 403);
    await expectError(await post('{"service_code": "road", ', 'application/json'), 400, /JSON/);
    const first = await post(form({ address_string: 'Арбат, 99' }), FORM);
    expect(first.status).toBe(201);
    const [{ service_request_id: id }] = (await first.json()) as any[];
    await expectError(await post(form({ address_string: 'ул. Арбат, д. 99' }), FORM), 409, new RegExp(`service_request_id ${id}`));
    // the platform's own API keeps its shape
    const api404 = (await (await fetch(`${s.url}/api/city/reports/999999`)).json()) as any;
    expect(api404.error).toMatchObject({ code: 'not_found' });
  });

  it('when PostgreSQL is down, then Open311 answers 503 [{code: 503, description}] with Retry-After, quickly', async () => {
    const pgs = await faultPostgres('open311');
    const down = await cityTestServer({ DATABASE_URL: pgs.url, DATABASE_CONNECT_TIMEOUT_MS: '1000' });
    try {
      expect((await fetch(`${down.url}/open311/v2/requests.json`)).status).toBe(200);
      await pgs.kill9();
      const t0 = performance.now();
      const r = await fetch(`${down.url}/open311/v2/requests.json`);
      expect(performance.now() - t0).toBeLessThan(5_000);
      await expectError(r, 503, /unavailable/i);
      expect(r.headers.get('retry-after')).toMatch(/^\d+$/);
    } finally {
      await down.close();
      await pgs.destroy();
    }
  });
});
