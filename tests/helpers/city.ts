import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import sharp from 'sharp';
import { inject } from 'vitest';
import { testServer } from './context.ts';
import { createTestUser } from './users.ts';
import type { AppContext } from '../../server/context.ts';
import type { Role } from '../../shared/users.ts';

/** A fresh database on the run's PostgreSQL (tests/setup/postgres.global.ts), so files never see each other. */
export async function createTestDatabase(label = 'city'): Promise<string> {
  const base = inject('postgresUrl');
  const name = `t_${label}_${randomBytes(5).toString('hex')}`;
  const c = new pg.Client({ connectionString: base });
  await c.connect();
  await c.query(`create database ${name}`);
  await c.end();
  return base.replace(/\/[^/]*$/, `/${name}`);
}

/** A test server with Our City on its own database and photo dir. */
export async function cityTestServer(overrides: Record<string, string> = {}) {
  const DATABASE_URL = overrides.DATABASE_URL ?? (await createTestDatabase());
  const PHOTO_DIR = overrides.PHOTO_DIR ?? mkdtempSync(join(tmpdir(), 'ac-test-photos-'));
  const s = await testServer({ DATABASE_URL, PHOTO_DIR, ...overrides });
  if (!s.ctx.city?.isReady()) throw new Error('city database not ready');
  return Object.assign(s, { databaseUrl: DATABASE_URL, photoDir: PHOTO_DIR });
}

export type TestActor = Awaited<ReturnType<typeof createTestUser>>;

/** A user with roles; a responder is bound to `organisationIds` through the store. */
export async function cityUser(ctx: AppContext, roles: Role[] = ['resident'], organisationIds: number[] = []): Promise<TestActor> {
  const u = await createTestUser(ctx, { roles });
  if (organisationIds.length) await ctx.city!.catalogue.bindResponder(u.user.id, organisationIds);
  return u;
}

/** A JPEG carrying EXIF with GPS and a camera model, made by sharp (what a phone camera would send). */
export async function jpegWithGps(opts: { width?: number; height?: number; noise?: boolean } = {}): Promise<Buffer> {
  const width = opts.width ?? 64;
  const height = opts.height ?? 48;
  const channels = 3;
  const raw = Buffer.alloc(width * height * channels);
  for (let i = 0; i < raw.length; i++) raw[i] = opts.noise ? Math.floor(Math.random() * 256) : (i * 7) % 256;
  return sharp(raw, { raw: { width, height, channels } })
    .withMetadata({
      exif: {
        IFD0: { Model: 'SecretPhone 9', Copyright: 'reporter-name' },
        IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '55/1 45/1 21/1', GPSLongitudeRef: 'E', GPSLongitude: '37/1 37/1 4/1' },
      },
    })
    .jpeg()
    .toBuffer();
}

export async function pngImage(): Promise<Buffer> {
  return sharp({ create: { width: 40, height: 30, channels: 4, background: { r: 10, g: 200, b: 30, alpha: 0.5 } } }).png().toBuffer();
}

/** multipart body of a report (or an answer) with files in `photos`. */
export function reportForm(fields: Record<string, string>, photos: Buffer[] = [], type = 'image/jpeg'): FormData {
  const f = new FormData();
  for (const [k, v] of Object.entries(fields)) f.append(k, v);
  photos.forEach((p, i) => f.append('photos', new Blob([new Uint8Array(p)], { type }), `p${i}.jpg`));
  return f;
}

let addressSeq = 0;
export const reportFields = (over: Record<string, string> = {}) => ({
  category: 'roof_leak',
  district: 'arbat',
  address: `ул. Арбат, д. ${++addressSeq + Math.floor(Math.random() * 100000)}`,
  description: 'Протекает крыша над третьим подъездом после дождя',
  ...over,
});

/** Headers for a multipart post: the cookie and Origin only (fetch sets the boundary). */
export const formHeaders = (a: TestActor) => ({ cookie: a.cookie, origin: a.headers.origin! });

/** Small API client over a city test server. */
export function cityApi(base: string) {
  const json = async (r: Response) => ({ status: r.status, body: (await r.json().catch(() => null)) as any, headers: r.headers });
  return {
    get: (path: string, a?: TestActor) => fetch(`${base}/api/city${path}`, { headers: a?.headers }).then(json),
    post: (a: TestActor, path: string, body?: unknown) =>
      fetch(`${base}/api/city${path}`, { method: 'POST', headers: a.headers, body: body === undefined ? undefined : JSON.stringify(body) }).then(json),
    put: (a: TestActor, path: string, body: unknown) => fetch(`${base}/api/city${path}`, { method: 'PUT', headers: a.headers, body: JSON.stringify(body) }).then(json),
    file: (a: TestActor, fields: Record<string, string>, photos: Buffer[] = [], type?: string) =>
      fetch(`${base}/api/city/reports`, { method: 'POST', headers: formHeaders(a), body: reportForm(fields, photos, type) }).then(json),
    answer: (a: TestActor, id: number, fields: Record<string, string>, photos: Buffer[] = []) =>
      fetch(`${base}/api/city/reports/${id}/answer`, { method: 'POST', headers: formHeaders(a), body: reportForm(fields, photos) }).then(json),
  };
}
