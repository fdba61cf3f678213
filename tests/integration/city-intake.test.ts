import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'node:http';
import sharp from 'sharp';
import { cityApi, cityTestServer, cityUser, formHeaders, jpegWithGps, pngImage, reportFields, type TestActor } from '../helpers/city.ts';
import { MAX_PHOTO_BYTES } from '../../shared/city.ts';

let s: Awaited<ReturnType<typeof cityTestServer>>;
let api: ReturnType<typeof cityApi>;
let resident: TestActor, neighbour: TestActor;

beforeAll(async () => {
  s = await cityTestServer({ CITY_REPORTS_PER_DAY: '50' });
  api = cityApi(s.url);
  [resident, neighbour] = await Promise.all([cityUser(s.ctx), cityUser(s.ctx)]);
});
afterAll(async () => {
  await s?.close();
});

const files = () => (existsSync(s.photoDir) ? readdirSync(s.photoDir).flatMap((d) => readdirSync(join(s.photoDir, d))) : []);
const reportCount = async () => Number((await s.ctx.city!.db.selectFrom('city_reports').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);

/** The photo dir and the reports table are unchanged by `fn` (and it answered `status`). */
async function storesNothing(status: number, fn: () => Promise<{ status: number; body: any }>) {
  const [f0, r0] = [files().length, await reportCount()];
  const r = await fn();
  expect(r.status, JSON.stringify(r.body)).toBe(status);
  expect(r.body.error).toMatchObject({ code: expect.any(String), message: expect.any(String) });
  expect(files().length).toBe(f0);
  expect(await reportCount()).toBe(r0);
  return r;
}

describe('Our City intake: photos, limits, duplicates', () => {
  it('when a JPEG with EXIF and GPS and a PNG are uploaded, then both are stored as re-encoded JPEGs without metadata, with thumbnails, by content hash', async () => {
    const r = await api.file(resident, reportFields(), [await jpegWithGps({ width: 120, height: 90 }), await pngImage()]);
    expect(r.status).toBe(201);
    expect(r.body.photos).toHaveLength(2);
    for (const p of r.body.photos) {
      const full = Buffer.from(await (await fetch(`${s.url}${p.url}`)).arrayBuffer());
      const meta = await sharp(full).metadata();
      expect(meta.format).toBe('jpeg');
      expect(meta.exif).toBeUndefined();
      expect(meta.xmp).toBeUndefined();
      expect(full.includes(Buffer.from('SecretPhone'))).toBe(false);
      expect(full.includes(Buffer.from('reporter-name'))).toBe(false);
      const thumb = await fetch(`${s.url}${p.thumbUrl}`);
      expect(thumb.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
      const again = await fetch(`${s.url}${p.url}`, { headers: { 'if-none-match': thumb.headers.get('etag')!.replace('t"', '"') } });
      expect(again.status).toBe(304);
    }
    expect(r.body.photos[0].width).toBe(120);
    expect(files()).toContain(`${r.body.photos[0].hash}.jpg`);
  });

  it('when a photo is over 10 MB, then 413 and nothing is stored', async () => {
    const big = Buffer.concat([await jpegWithGps(), Buffer.alloc(MAX_PHOTO_BYTES)]);
    await storesNothing(413, async () => api.file(resident, reportFields(), [await jpegWithGps(), big]));
  });

  it('when a file is not JPEG/PNG/WebP (whatever its name and part type say), then 415 and nothing is stored', async () => {
    const r = await storesNothing(415, async () => api.file(resident, reportFields(), [await jpegWithGps(), Buffer.from('GIF89a fake image bytes here')], 'image/jpeg'));
    expect(r.body.error.code).toBe('unsupported_media_type');
  });

  it('when an image is corrupt (JPEG header, broken body), then 400 and nothing is stored (not even the good photo before it)', async () => {
    const good = await jpegWithGps({ noise: true });
    const broken = Buffer.concat([good.subarray(0, 200), Buffer.alloc(300, 0x41)]);
    await storesNothing(400, () => api.file(resident, reportFields(), [good, broken]));
  });

  it('when 6 photos are sent, then 400 and nothing is stored', async () => {
    const p = await jpegWithGps();
    await storesNothing(400, () => api.file(resident, reportFields(), [p, p, p, p, p, p]));
  });

  it('when fields are bad (unknown field, short description, unknown district, lat without lng), then 400 with details and nothing is stored', async () => {
    for (const fields of [
      { ...reportFields(), extra: 'x' },
      reportFields({ description: 'short' }),
      reportFields({ district: 'atlantis' }),
      { ...reportFields(), lat: '55.75' },
      reportFields({ category: 'no_such_category' }),
    ]) {
      const r = await storesNothing(400, () => api.file(resident, fields));
      expect(r.body.error.details).not.toBeNull();
    }
  });

  it('when the body is JSON or a multipart body stops halfway, then 415 / 400 and nothing is stored', async () => {
    await storesNothing(415, () => fetch(`${s.url}/api/city/reports`, { method: 'POST', headers: resident.headers, body: JSON.stringify(reportFields()) }).then(async (r) => ({ status: r.status, body: await r.json() })));
    const boundary = 'XyZ123';
    const head = `--${boundary}\r\nContent-Disposition: form-data; name="category"\r\n\r\nroof_leak\r\n--${boundary}\r\nContent-Disposition: form-data; name="photos"; filename="a.jpg"\r\nContent-Type: image/jpeg\r\n\r\n`;
    const jpeg = await jpegWithGps();
    const f0 = files().length;
    const status = await new Promise<number>((resolve, reject) => {
      const u = new URL(`${s.url}/api/city/reports`);
      const req = request({ host: u.hostname, port: u.port, path: u.pathname, method: 'POST', headers: { ...formHeaders(resident), 'content-type': `multipart/form-data; boundary=${boundary}` } }, (res) => {
        res.resume();
        resolve(res.statusCode!);
      });
      req.on('error', reject);
      req.write(head);
      req.write(jpeg.subarray(0, 100));
      req.end(); // the body ends without the closing boundary
    });
    expect(status).toBe(400);
    expect(files().length).toBe(f0);
  });

  it('when an open report has the same category, district and address, then a new one gets 409 duplicate with its id, the form can find it, and "me too" supports it', async () => {
    const fields = reportFields({ address: 'Малый Власьевский пер., 7' });
    const first = await api.file(resident, fields);
    expect(first.status).toBe(201);
    const again = await api.file(neighbour, { ...fields, address: 'малый власьевский пер 7', description: 'Та же самая проблема с крышей дома' });
    expect(again.status).toBe(409);
    expect(again.body.error).toMatchObject({ code: 'duplicate', details: { reportId: first.body.id } });
    const found = await api.get(`/duplicates?category=${fields.category}&district=${fields.district}&address=${encodeURIComponent('Малый Власьевский 7')}`);
    expect(found.body.items.map((i: any) => i.id)).toEqual([first.body.id]);
    const sup = await api.post(neighbour, `/reports/${first.body.id}/support`);
    expect(sup.body).toEqual({ reportId: first.body.id, supporters: 1, supported: true });
    expect((await api.post(neighbour, `/reports/${first.body.id}/support`)).body.supporters).toBe(1);
    const mine = await api.get('/my/reports', neighbour);
    expect(mine.body.items.map((i: any) => i.id)).toContain(first.body.id);
  });

  it('when the list is filtered and searched in Russian, then stemming matches other word forms and filters combine', async () => {
    const a = await api.file(resident, reportFields({ district: 'sokol', category: 'lighting', description: 'Не горят фонари во дворе уже неделю' }));
    const b = await api.file(resident, reportFields({ district: 'arbat', category: 'lighting', description: 'Сломанный фонарь у подъезда номер два' }));
    expect([a.status, b.status]).toEqual([201, 201]);
    const search = await api.get(`/reports?q=${encodeURIComponent('фонарь')}&pageSize=50`);
    expect(search.body.items.map((i: any) => i.id).sort()).toEqual([a.body.id, b.body.id].sort());
    const sao = await api.get(`/reports?q=${encodeURIComponent('фонари')}&okrug=sao`);
    expect(sao.body.items.map((i: any) => i.id)).toEqual([a.body.id]);
    const page = await api.get('/reports?category=lighting&pageSize=1&page=2&sort=oldest');
    expect(page.body).toMatchObject({ page: 2, pageSize: 1, total: 2 });
    expect(page.body.items[0].id).toBe(b.body.id);
    expect((await api.get('/reports?status=nope')).status).toBe(400);
    expect((await api.get('/reports?pageSize=1000')).status).toBe(400);
  });
});

describe('Our City daily limit', () => {
  let limited: Awaited<ReturnType<typeof cityTestServer>>;
  let lapi: ReturnType<typeof cityApi>;
  beforeAll(async () => {
    limited = await cityTestServer({ CITY_REPORTS_PER_DAY: '2' });
    lapi = cityApi(limited.url);
  });
  afterAll(async () => {
    await limited?.close();
  });
  const filedBy = async (who: TestActor) =>
    Number((await limited.ctx.city!.db.selectFrom('city_reports').select((eb) => eb.fn.countAll().as('n')).where('reporter_id', '=', who.user.id).executeTakeFirstOrThrow()).n);

  it('when a resident files more than CITY_REPORTS_PER_DAY, then 429 with Retry-After and nothing is stored', async () => {
    const who = await cityUser(limited.ctx);
    for (let i = 0; i < 2; i++) expect((await lapi.file(who, reportFields())).status).toBe(201);
    const r = await lapi.file(who, reportFields());
    expect(r.status).toBe(429);
    expect(Number(r.headers.get('retry-after'))).toBeGreaterThan(3600);
    expect(r.body.error.code).toBe('rate_limited');
    expect(await filedBy(who)).toBe(2);
  });

  it('when submits are refused (415 file type, 400 corrupt photo, 409 duplicate, 429 itself), then they use up none of the day\'s reports; the filed ones still stop at the limit', async () => {
    const who = await cityUser(limited.ctx);
    const first = await lapi.file(who, reportFields({ address: 'Лимитный пер., 1' }));
    expect(first.status).toBe(201);
    const good = await jpegWithGps({ noise: true });
    for (let round = 0; round < 2; round++) {
      expect((await lapi.file(who, reportFields(), [Buffer.from('GIF89a fake image bytes here')])).status).toBe(415);
      expect((await lapi.file(who, reportFields(), [Buffer.concat([good.subarray(0, 200), Buffer.alloc(300, 0x41)])])).status).toBe(400);
      const dup = await lapi.file(who, reportFields({ address: 'лимитный переулок 1', description: 'Та же самая протечка, что и вчера' }));
      expect(dup.status).toBe(409);
      expect(dup.body.error.code).toBe('duplicate');
    }
    // the second filed report is still within the day's two
    expect((await lapi.file(who, reportFields(), [good])).status).toBe(201);
    const over = await lapi.file(who, reportFields());
    expect(over.status).toBe(429);
    expect(Number(over.headers.get('retry-after'))).toBeGreaterThan(3600);
    // a refused-for-the-limit submit does not count either: still 429, still two filed
    expect((await lapi.file(who, reportFields())).status).toBe(429);
    expect(await filedBy(who)).toBe(2);
  });

  it('when a resident sends several submits at once at the limit, then exactly the limit is filed and the rest get 429', async () => {
    const who = await cityUser(limited.ctx);
    // a refused one first: it must not shrink what the parallel burst may file
    expect((await lapi.file(who, reportFields(), [Buffer.from('not an image at all')])).status).toBe(415);
    const res = await Promise.all(Array.from({ length: 6 }, () => lapi.file(who, reportFields())));
    expect(res.map((r) => r.status).sort()).toEqual([201, 201, 429, 429, 429, 429]);
    expect(await filedBy(who)).toBe(2);
  });
});
