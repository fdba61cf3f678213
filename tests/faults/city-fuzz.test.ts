import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseQuery } from 'node:querystring';
import { sql } from 'kysely';
import type { z } from 'zod';
import { faultRedis, makeStaff, makeVoters, redisDigest, digestDiff, FAULT_ORIGIN, type FaultRedis } from '../helpers/faults.ts';
import { fuzzServer, rawPool, type FuzzServer, type RawRequest, type RawResponse } from '../helpers/fuzz.ts';
import { faultPostgres, photoFiles, type FaultPostgres } from '../helpers/city-faults.ts';
import { jpegWithGps } from '../helpers/city.ts';
import { cityCatalog, open311Catalog } from '../../server/openapi/city.catalog.ts';
import { open311ErrorSchema } from '../../shared/open311.ts';
import type { RouteDoc } from '../../server/openapi/registry.ts';
import { ERROR_CODES } from '../../shared/errors.ts';
import { answerBodySchema, reportCreateSchema, MAX_PHOTOS } from '../../shared/city.ts';

/**
 * Fuzzing every Our City route (/api/city/*, multipart included) with inputs INVALID by construction: each
 * answer must be a 4xx `{error:{code,message,details}}` (Open311: `[{code,description}]`; never 5xx, no stack trace), and after each route's
 * batch Redis (rate counters aside), every city table in PostgreSQL and the photo directory are unchanged,
 * no error was logged and the server is alive. JSON bodies, queries and path params are mutated and kept only
 * when the catalog's zod schema rejects them; multipart bodies get junk fields, unknown and repeated fields,
 * junk/corrupt/too many files and broken framing, kept only when the fields fail the schema, a file is not a
 * decodable image, there are too many, or the framing is broken. FUZZ_RUNS (default here 1500) per route.
 */

const RUNS = Number(process.env.FUZZ_RUNS ?? 1_500);
const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 2_147_483_647);
const PREFIX = 'fzc:';
const DIGEST_IGNORE = [/^fzc:rate:/];
const CITY_TABLES = ['city_categories', 'city_organisations', 'city_org_districts', 'city_org_categories', 'city_responders', 'city_reports', 'city_cycles', 'city_timeline', 'city_photos', 'city_supports', 'city_alerts'];

const WEIRD = ['', ' ', '\u0000', '\ud800', '\u202eevil', '🙂👍🏽', '../../etc/passwd', "' OR 1=1 --", '__proto__', 'constructor', 'null', 'NaN', '-1', '1e308', '9'.repeat(400), 'x'.repeat(5000)];
const nastyString = fc.oneof(fc.constantFrom(...WEIRD), fc.string({ unit: 'binary', maxLength: 30 }), fc.integer({ min: 300, max: 20_000 }).map((n) => 'я'.repeat(n)));
const nasty: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  v: fc.oneof(
    { arbitrary: nastyString, weight: 4 },
    { arbitrary: fc.oneof(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.constantFrom(null, true, false, -0, 1e308)), weight: 3 },
    { arbitrary: fc.array(tie('v'), { maxLength: 3 }), weight: 1 },
    { arbitrary: fc.dictionary(fc.oneof(fc.constantFrom('__proto__', 'constructor'), nastyString), tie('v'), { maxKeys: 3 }), weight: 1 },
  ),
})).v;

/** Replace one key's value with junk, drop one, or add an unknown one. */
function mutate(valid: Record<string, unknown>): fc.Arbitrary<unknown> {
  const keys = Object.keys(valid);
  return fc.oneof(
    fc.tuple(fc.constantFrom(...keys), nasty).map(([k, v]) => ({ ...valid, [k]: v })),
    fc.constantFrom(...keys).map((k) => Object.fromEntries(Object.entries(valid).filter(([x]) => x !== k))),
    fc.tuple(nastyString, nasty).map(([k, v]) => ({ ...valid, [k || 'extra']: v })),
    nasty,
  );
}

const idJunk = fc.oneof(
  fc.constantFrom('-1', '0', '01', '1e3', '0x10', '1.5', '%20', 'NaN', '__proto__', '%zz', '%E0%A4%A', '%00', '9'.repeat(40), '..', '%2F'),
  fc.integer({ min: 5_000_000, max: 2_000_000_000 }).map(String),
);

/** Percent-encode; a lone surrogate (which encodeURIComponent refuses) goes as a broken escape. */
const enc = (v: string) => {
  try {
    return encodeURIComponent(v);
  } catch {
    return '%zz';
  }
};

type Part = { name: string; value?: string; file?: Buffer; filename?: string };
function multipart(parts: Part[], boundary: string, truncate: boolean): Buffer {
  const chunks: Buffer[] = [];
  for (const p of parts) {
    const disp = p.file ? `form-data; name="${p.name}"; filename="${p.filename ?? 'x.jpg'}"` : `form-data; name="${p.name}"`;
    chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: ${disp}\r\n${p.file ? 'Content-Type: image/jpeg\r\n' : ''}\r\n`));
    chunks.push(p.file ?? Buffer.from(p.value ?? '', 'utf8'), Buffer.from('\r\n'));
  }
  const body = Buffer.concat([...chunks, Buffer.from(`--${boundary}--\r\n`)]);
  return truncate ? body.subarray(0, Math.max(1, Math.floor(body.length * 0.6))) : body;
}

type Input = { category: string; req: RawRequest };

/** A refusal: a 4xx whose body is the platform's {error:{code,message}}, or under /open311/v2 GeoReport v2's [{code, description}]. */
function check(res: RawResponse, open311: boolean): string | null {
  if (res.status === 0) return `no response (${res.headers.error})`;
  if (res.status >= 500) return `status ${res.status}`;
  if (res.status < 400) return `status ${res.status} (an invalid input was accepted)`;
  const text = res.body.toString('utf8');
  if (/\n\s+at |node_modules|\.ts:\d+|\/work\//.test(text)) return 'stack trace or source path';
  let body: any;
  try {
    body = JSON.parse(text);
  } catch {
    return 'body is not JSON';
  }
  if (open311) {
    const e = open311ErrorSchema.safeParse(body);
    if (!e.success) return `not [{code,description}]: ${text.slice(0, 200)}`;
    return e.data[0]!.code === res.status ? null : `code ${e.data[0]!.code} with status ${res.status}`;
  }
  const e = body?.error;
  if (!e || typeof e.code !== 'string' || !(e.code in ERROR_CODES) || typeof e.message !== 'string') return `not {error:{code,message}}: ${text.slice(0, 200)}`;
  if (ERROR_CODES[e.code as keyof typeof ERROR_CODES] !== res.status) return `code ${e.code} with status ${res.status}`;
  return null;
}

describe('fuzz: every Our City route refuses invalid input (JSON, query, params, multipart) with a 4xx and changes nothing', () => {
  let redis: FaultRedis;
  let pgs: FaultPostgres;
  let srv: FuzzServer;
  let photoDir: string;
  const cookies: Record<string, string> = {};
  const fx: Record<string, { id?: string; valid?: () => Record<string, unknown>; multipart?: 'report' | 'answer'; who?: string }> = {};
  let goodJpeg: Buffer;
  const table: Record<string, string | number>[] = [];

  beforeAll(async () => {
    [redis, pgs] = await Promise.all([faultRedis('city-fuzz', 'everysec'), faultPostgres('fuzz')]);
    photoDir = mkdtempSync(join(tmpdir(), 'ac-fuzz-photos-'));
    srv = await fuzzServer(redis.url, PREFIX, { DATABASE_URL: pgs.url, PHOTO_DIR: photoDir, CITY_REPORTS_PER_DAY: '10000' });
    await srv.ctx.city!.init();
    const ctx = srv.ctx;
    const [resident, other] = await makeVoters(ctx, 2, 3000);
    const moderator = await makeStaff(ctx, '+79990004001', ['moderator']);
    const admin = await makeStaff(ctx, '+79990004002', ['admin']);
    const official = await makeStaff(ctx, '+79990004003', ['official']);
    const responder = await makeStaff(ctx, '+79990004004', ['responder']);
    const org = (await ctx.city!.catalogue.propose('roof_leak', 'arbat'))!.id;
    await ctx.city!.catalogue.bindResponder(responder.user.id, [org]);
    Object.assign(cookies, { resident: resident.cookie, other: other.cookie, moderator: moderator.cookie, admin: admin.cookie, official: official.cookie, responder: responder.cookie });
    goodJpeg = await jpegWithGps();
    const svc = ctx.city!.service;
    const fields = (address: string) => ({ category: 'roof_leak', district: 'arbat', address, description: 'Протекает крыша над подъездом' });
    const submitted = await svc.create(resident.user, fields('Фузз-стрит 1'), [goodJpeg]);
    const routed = await svc.create(resident.user, fields('Фузз-стрит 2'), []);
    await svc.route(routed.id, moderator.user, org);
    const answered = await svc.create(resident.user, fields('Фузз-стрит 3'), []);
    await svc.route(answered.id, moderator.user, org);
    await svc.answer(answered.id, responder.user, { text: 'Сделано', outcome: 'fixed' }, []);
    const photo = `${submitted.photos[0]!.hash}.jpg`;
    const S = String(submitted.id);
    Object.assign(fx, {
      'get /city/categories': {},
      'post /city/categories': { valid: () => ({ code: 'fuzz_cat', name: { ru: 'Фузз', en: 'Fuzz' }, orgKind: 'housing', deadlineDays: 5 }) },
      'patch /city/categories/:code': { id: 'roof_leak', valid: () => ({ deadlineDays: 6 }) },
      'get /city/organisations': {},
      'post /city/organisations': { valid: () => ({ slug: 'fuzz-org', name: { ru: 'Фузз', en: 'Fuzz' }, kind: 'housing', districts: ['arbat'], categories: ['roof_leak'] }) },
      'patch /city/organisations/:id': { id: String(org), valid: () => ({ active: true }) },
      'get /city/route-proposal': {},
      'get /city/responders/:id': { id: String(responder.user.id) },
      'put /city/responders/:id': { id: String(responder.user.id), valid: () => ({ organisationIds: [org] }) },
      'get /city/reports': {},
      'get /city/duplicates': {},
      'get /city/reports/:id': { id: S },
      'post /city/reports': { multipart: 'report' },
      // the reporter cannot support their own report: even a valid request is refused
      'post /city/reports/:id/support': { id: S },
      'post /city/reports/:id/route': { id: S, valid: () => ({ organisationId: org }) },
      'post /city/reports/:id/reject': { id: S, valid: () => ({ reason: 'other', comment: 'Неясно' }) },
      'post /city/reports/:id/merge': { id: S, valid: () => ({ into: routed.id }) },
      'post /city/reports/:id/answer': { id: String(routed.id), multipart: 'answer' },
      // another resident may not judge the answer: valid requests are refused
      'post /city/reports/:id/confirm': { id: String(answered.id), who: 'other' },
      'post /city/reports/:id/dispute': { id: String(answered.id), valid: () => ({ comment: 'Не исправлено' }) },
      'get /city/queue': {},
      'get /city/inbox': {},
      'get /city/my/reports': {},
      'get /city/my/alerts': {},
      'put /city/my/alerts': { valid: () => ({ districts: ['arbat'], categories: ['roof_leak'] }) },
      'get /city/board': {},
      'get /city/photos/:name': { id: photo },
      // Open311 beside the API
      'get /open311/v2/discovery.json': {},
      'get /open311/v2/services.json': {},
      'get /open311/v2/services/:code.json': { id: 'road' },
      'get /open311/v2/requests.json': {},
      'get /open311/v2/requests/:id.json': { id: S },
      'post /open311/v2/requests.json': { valid: () => ({ service_code: 'road', description: 'Яма на дороге у дома', address_string: 'Фузз-стрит 50', 'attribute[district]': 'arbat' }) },
    });
  });

  afterAll(async () => {
    if (table.length) console.table(table);
    await srv?.close().catch(() => {});
    await pgs?.destroy();
    await redis?.destroy();
  });

  async function pgDigest(): Promise<string> {
    const parts: string[] = [];
    for (const t of CITY_TABLES) {
      const r = await sql<{ d: string | null }>`select md5(string_agg(x::text, '|' order by x::text)) d from ${sql.table(t)} x`.execute(srv.ctx.city!.db);
      parts.push(`${t}:${r.rows[0]!.d}`);
    }
    return parts.join(' ');
  }

  function inputs(doc: RouteDoc, key: string): fc.Arbitrary<Input> {
    const f = fx[key]!;
    const method = doc.method.toUpperCase();
    const isGet = method === 'GET';
    const who = f.who ?? (doc.auth === 'public' ? null : doc.auth === 'user' ? 'resident' : doc.auth[0]!);
    const cookie = who ? cookies[who] : null;
    const param = doc.path.match(/:(\w+)/)?.[1];
    const target = (id: string | undefined, q = '') => `${doc.mount ?? '/api'}${doc.path.replace(/:\w+/, id ?? '')}${q ? `?${q}` : ''}`;
    const headers = (ct: string | null): [string, string][] => [...(cookie ? [['cookie', cookie] as [string, string]] : []), ...(isGet ? [] : [['origin', FAULT_ORIGIN] as [string, string]]), ...(ct ? [['content-type', ct] as [string, string]] : [])];
    const mk = (category: string, req: Partial<RawRequest>): Input => ({ category, req: { method, target: target(f.id), headers: headers(isGet ? null : 'application/json'), body: isGet ? undefined : Buffer.from(JSON.stringify(f.valid?.() ?? {})), ...req } });
    const parts: fc.Arbitrary<Input>[] = [];
    if (doc.body && f.valid) {
      const schema = doc.body;
      parts.push(mutate(f.valid()).filter((v) => !schema.safeParse(v).success).map((v) => mk('body', { body: Buffer.from(JSON.stringify(v) ?? 'null') })));
      parts.push(fc.constantFrom('{', '{"a":}', 'nul', '[1,]', '\u0000').map((b) => mk('malformed-json', { body: Buffer.from(b) })));
    }
    if (param) {
      const schema = doc.params as z.ZodObject | undefined;
      parts.push(idJunk.filter((raw) => {
        let d: string;
        try {
          d = decodeURIComponent(raw);
        } catch {
          return true;
        }
        return !schema || !schema.safeParse({ [param]: d }).success || /^\d+$/.test(d);
      }).map((id) => mk('param', { target: target(id) })));
    }
    if (doc.query) {
      const q = doc.query;
      const keys = Object.keys(q.shape);
      parts.push(
        fc.array(fc.tuple(fc.oneof(fc.constantFrom(...keys), nastyString.filter((s) => s.length < 50).map(enc)), nastyString.filter((s) => s.length < 3000)), { minLength: 1, maxLength: 4 })
          .map((pairs) => pairs.map(([k, v]) => `${k}=${enc(v)}`).join('&'))
          // under Node's 16 KB request-line limit (over it Node answers 431 itself, before any route)
          .filter((s) => s.length < 11_000 && !q.safeParse(parseQuery(s)).success)
          .map((s) => mk('query', { target: target(f.id, s) })),
      );
    }
    if (f.multipart) {
      const schema = f.multipart === 'report' ? reportCreateSchema : answerBodySchema;
      const valid: Record<string, string> = f.multipart === 'report'
        ? { category: 'roof_leak', district: 'arbat', address: 'Фузз-стрит 99', description: 'Протекает крыша над подъездом' }
        : { text: 'Починили', outcome: 'fixed' };
      const field = fc.oneof(
        fc.tuple(fc.constantFrom(...Object.keys(valid)), nastyString).map(([k, v]) => ({ ...valid, [k]: v })),
        fc.constantFrom(...Object.keys(valid)).map((k) => Object.fromEntries(Object.entries(valid).filter(([x]) => x !== k))),
        fc.tuple(nastyString.filter((s) => /^[\w-]{1,20}$/.test(s)), nastyString).map(([k, v]) => ({ ...valid, [k]: v })),
        fc.constant(valid),
      );
      const file = fc.oneof(
        { arbitrary: fc.constant({ ok: true, b: goodJpeg }), weight: 2 },
        { arbitrary: fc.uint8Array({ minLength: 1, maxLength: 300 }).map((a) => ({ ok: false, b: Buffer.from(a) })), weight: 2 },
        { arbitrary: fc.nat({ max: goodJpeg.length - 10 }).map((n) => ({ ok: false, b: Buffer.concat([goodJpeg.subarray(0, 20 + (n % 100)), Buffer.alloc(50, 0x41)]) })), weight: 2 },
      );
      parts.push(
        fc.record({ fields: field, files: fc.array(file, { maxLength: MAX_PHOTOS + 2 }), truncate: fc.boolean(), dup: fc.boolean(), badBoundary: fc.boolean() })
          .filter((m) => m.truncate || m.badBoundary || m.dup || !schema.safeParse(m.fields).success || m.files.some((x) => !x.ok) || m.files.length > MAX_PHOTOS)
          .map((m) => {
            const p: Part[] = Object.entries(m.fields).map(([name, value]) => ({ name, value }));
            if (m.dup && p.length) p.push({ ...p[0]! });
            for (const x of m.files) p.push({ name: 'photos', file: x.b });
            const b = 'fzb0undary';
            return mk('multipart', { headers: headers(`multipart/form-data; boundary=${m.badBoundary ? 'other' : b}`), body: multipart(p, b, m.truncate) });
          }),
      );
      parts.push(fc.constantFrom('multipart/form-data', 'text/plain', 'application/json').map((ct) => mk('multipart-type', { headers: headers(ct), body: Buffer.from('{"category":"roof_leak"}') })));
    }
    // transport junk every route gets: a body that is not JSON, a Content-Encoding that lies
    parts.push(fc.constantFrom('{', '{"a":}', '[1,]', 'x'.repeat(70_000)).map((b) => mk('transport', { headers: headers('application/json'), body: Buffer.from(b) })));
    parts.push(fc.constantFrom('gzip', 'deflate', 'br').map((enc) => mk('content-encoding', { headers: [...headers('application/json'), ['content-encoding', enc]], body: Buffer.from('{"a":1}') })));
    if (!isGet) parts.push(fc.constantFrom('http://evil.test', 'null').map((o) => mk('origin', { headers: headers('application/json').map(([k, v]) => [k, k === 'origin' ? o : v] as [string, string]) })));
    if (doc.auth !== 'public') parts.push(fc.constantFrom('ac_sid=garbage', '').map((c) => mk('auth', { headers: headers(isGet ? null : 'application/json').filter(([k]) => k !== 'cookie').concat(c ? [['cookie', c]] : []) })));
    return fc.oneof(...parts);
  }

  it('when every /api/city and /open311/v2 route gets FUZZ_RUNS invalid inputs, then each answer is a 4xx JSON error and Redis, PostgreSQL and the photo directory are unchanged', { timeout: 900_000 }, async () => {
    const docs = [...cityCatalog(), ...open311Catalog()];
    const keyOf = (d: RouteDoc) => `${d.method} ${d.mount === '/open311/v2' ? d.mount : ''}${d.path}`;
    expect(docs.filter((d) => !fx[keyOf(d)]).map(keyOf), 'add a fixture for these routes').toEqual([]);
    console.log(`[city-fuzz] seed ${SEED} (FUZZ_SEED replays it), ${RUNS} inputs per route, ${docs.length} routes`);
    const pool = rawPool(srv.port, 8);
    const failures: string[] = [];
    try {
      for (const [i, doc] of docs.entries()) {
        const key = keyOf(doc);
        const [redisBefore, pgBefore, filesBefore] = [await redisDigest(srv.ctx.redis, DIGEST_IGNORE), await pgDigest(), photoFiles(photoDir).sort().join()];
        const logMark = srv.logLines().length;
        const all = fc.sample(inputs(doc, key), { numRuns: RUNS, seed: (SEED + i * 7919) % 2_147_483_647 });
        let k = 0;
        const bad: string[] = [];
        const statuses = new Map<number, number>();
        await pool.run(async () => all[k++], (x) => x.req, (input, res) => {
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
          const problem = check(res, doc.mount === '/open311/v2');
          if (problem && bad.length < 5) bad.push(`${problem} <- [${input.category}] ${input.req.method} ${input.req.target.slice(0, 200)} body ${JSON.stringify(input.req.body?.toString('utf8').slice(0, 200))} => ${res.body.toString('utf8').slice(0, 200)}`);
        });
        const redisChanged = digestDiff(redisBefore, await redisDigest(srv.ctx.redis, DIGEST_IGNORE));
        const pgChanged = (await pgDigest()) !== pgBefore;
        const filesChanged = photoFiles(photoDir).sort().join() !== filesBefore;
        const errors = srv.logLines().slice(logMark).filter((l) => l.level >= 50);
        table.push({ route: key, inputs: all.length, statuses: [...statuses].map(([s, n]) => `${s}:${n}`).join(' '), bad: bad.length, redis: redisChanged.length ? 'CHANGED' : 'same', pg: pgChanged ? 'CHANGED' : 'same', files: filesChanged ? 'CHANGED' : 'same' });
        if (bad.length) failures.push(`${key}:\n  ${bad.join('\n  ')}`);
        if (redisChanged.length) failures.push(`${key}: Redis changed ${redisChanged.slice(0, 5).join(', ')}`);
        if (pgChanged) failures.push(`${key}: PostgreSQL changed`);
        if (filesChanged) failures.push(`${key}: photo files changed`);
        if (errors.length) failures.push(`${key}: error log lines, e.g. ${errors[0]!.line.slice(0, 500)}`);
        if (srv.proc.child.exitCode !== null || srv.proc.child.signalCode !== null) {
          failures.push(`${key}: the server process exited: ${srv.proc.output().slice(-2000)}`);
          break;
        }
      }
    } finally {
      pool.close();
    }
    expect(failures, failures.join('\n')).toEqual([]);
  });
});
