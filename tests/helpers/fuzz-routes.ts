import fc from 'fast-check';
import { parse as parseQuery } from 'node:querystring';
import { gzipSync } from 'node:zlib';
import type { z } from 'zod';
import { FAULT_ORIGIN } from './faults.ts';
import type { RawRequest, RawResponse } from './fuzz.ts';
import type { RouteDoc } from '../../server/openapi/registry.ts';
import { ERROR_CODES } from '../../shared/errors.ts';
import { SESSION_COOKIE } from '../../server/auth/auth.middleware.ts';
import { jsonDepthExceeds } from '../../server/json-depth.ts';
import { decodeParam, idCandidate, malformedJson, MALFORMED, mutations, nasty, parsedBody, queryCandidate, ser } from './fuzz-json.ts';

/**
 * The fuzz suite's per-route inputs (every invalid input a route can get, as one weighted arbitrary), the
 * response check (4xx JSON error with a known code, no stack trace) and the chunked sampler.
 */

export type Who = 'anon' | 'resident' | 'moderator' | 'official' | 'admin' | 'logout';
export type Fixture = {
  /** Valid path param of the route (a fixture made in beforeAll), when it has `:id`. */
  id?: () => string;
  /** A valid body (what a real client would send); mutations of it are filtered to invalid ones. */
  valid?: () => unknown;
  /** Beyond the catalog's zod schema: is this parsed body still valid for the route (semantic checks)? */
  semantic?: (body: unknown) => boolean;
  /** Beyond the catalog's query schema. */
  querySemantic?: (q: Record<string, unknown>) => boolean;
  validQuery?: string;
  who?: Who;
};

// ---------------------------------------------------------------------------------------------------------
// generators

export type Input = { category: string; req: RawRequest };
export type Outcome = { input: Input; res: RawResponse; problem: string | null };

export const STACK = /\n\s+at |node_modules|\.ts:\d+|\.js:\d+|\/work\/|\bTypeError\b|\bReferenceError\b/;

export function check(res: RawResponse): string | null {
  if (res.status === 0) return `no response (${res.headers.error})`;
  if (res.status >= 500) return `status ${res.status}`;
  if (res.status < 400) return `status ${res.status} (an invalid input was accepted)`;
  const text = res.body.toString('utf8');
  if (STACK.test(text)) return 'stack trace or source path in the body';
  if (!/^application\/json/.test(res.headers['content-type'] ?? '')) return `content-type ${res.headers['content-type']}`;
  let body: any;
  try {
    body = JSON.parse(text);
  } catch {
    return 'body is not JSON';
  }
  if (!body || typeof body !== 'object' || Array.isArray(body) || Object.keys(body).join() !== 'error') return 'body is not {error:{…}}';
  const e = body.error;
  if (!e || typeof e !== 'object' || Array.isArray(e)) return 'error is not an object';
  if (Object.keys(e).some((k) => !['code', 'message', 'details'].includes(k))) return `error has keys ${Object.keys(e).join()}`;
  if (typeof e.code !== 'string' || !(e.code in ERROR_CODES)) return `unknown code ${e.code}`;
  if (ERROR_CODES[e.code as keyof typeof ERROR_CODES] !== res.status) return `code ${e.code} with status ${res.status}`;
  if (typeof e.message !== 'string' || !e.message) return 'message missing';
  return null;
}

export function describeInput(i: Input): string {
  const body = i.req.body ? i.req.body.toString('utf8') : '';
  const t = i.req.target;
  return `[${i.category}] ${i.req.method} ${t.length > 200 ? `${t.slice(0, 200)}…(${t.length})` : t} ${JSON.stringify(i.req.headers.filter(([k]) => k !== 'cookie'))}${i.req.headers.some(([k]) => k === 'cookie') ? ' +cookie' : ''} body(${body.length}): ${JSON.stringify(body.slice(0, 300))}`;
}

export const inputSize = (i: Input) => i.req.target.length + (i.req.body?.length ?? 0);

/**
 * `total` samples of `arb`, generated in chunks of `chunk` (seed + chunk index: reproducible) as the senders
 * ask for them: generating overlaps with the server process working on the requests in flight.
 */
export function sampler<T>(arb: fc.Arbitrary<T>, total: number, seed: number, chunk = 32) {
  const queue: T[] = [];
  let made = 0;
  let k = 0;
  let genMs = 0;
  return {
    made: () => made,
    genMs: () => genMs,
    async next(): Promise<T | undefined> {
      for (;;) {
        if (queue.length) return queue.shift();
        if (made >= total) return undefined;
        await new Promise<void>((r) => setImmediate(r)); // let responses in first
        if (!queue.length && made < total) {
          const n = Math.min(chunk, total - made);
          const t0 = performance.now();
          queue.push(...fc.sample(arb, { numRuns: n, seed: seed + k++ }));
          genMs += performance.now() - t0;
          made += n;
        }
      }
    },
  };
}

export const FOREIGN_ORIGINS = ['http://evil.test', 'null', 'http://app.test.evil.test', 'https://app.test', 'http://APP.test', 'http://app.test:80', 'file://', 'http://127.0.0.1', 'x'];
export const BAD_CHARSETS = ['latin1', 'iso-8859-1', 'koi8-r', 'windows-1251', 'us-ascii', 'x-bogus', 'utf8', 'ebcdic-cp-us', 'binary'];
export const BAD_CONTENT_TYPES = ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/xml', 'text/json', 'application/jsonx', 'application/octet-stream', 'image/png', ''];
export const COOKIE_JUNK = [
  '', `${SESSION_COOKIE}=`, `${SESSION_COOKIE}=garbage`, `${SESSION_COOKIE}=%zz`, `${SESSION_COOKIE}=${'A'.repeat(43)}`, `${SESSION_COOKIE}=${'-'.repeat(43)}`,
  `${SESSION_COOKIE}="${'B'.repeat(43)}"`, `${SESSION_COOKIE}=__proto__`, `__proto__=1; ${SESSION_COOKIE}=constructor`, `${SESSION_COOKIE}=${'x'.repeat(3000)}`, ';;;=;', `${SESSION_COOKIE}=\u00ff`,
];

export type RouteUnderFuzz = { key: string; method: string; path: string; doc: RouteDoc; fx: Fixture; who: Who };

/** Every invalid input a route can get, as one weighted fast-check arbitrary. */
export function routeInputs(r: RouteUnderFuzz, cookies: Record<string, string>): fc.Arbitrary<Input> {
  const { doc, fx, who } = r;
  const isGet = r.method === 'GET';
  const cookie = who === 'anon' ? null : cookies[who];
  const hasId = r.path.includes(':id');
  const validId = fx.id?.() ?? '';
  const validQuery = fx.validQuery ?? '';
  const validBody = fx.valid ? Buffer.from(ser(fx.valid())) : undefined;
  const target = (id: string, q: string) => `${r.path.replace(':id', id)}${q ? `?${q}` : ''}`;
  const headers = (over: { cookie?: string | null; origin?: string | null; ct?: string | null; extra?: [string, string][] } = {}): [string, string][] => {
    const h: [string, string][] = [];
    const c = over.cookie === undefined ? cookie : over.cookie;
    if (c) h.push(['cookie', c]);
    const o = over.origin === undefined ? (isGet ? null : FAULT_ORIGIN) : over.origin;
    if (o !== null) h.push(['origin', o]);
    const ct = over.ct === undefined ? 'application/json' : over.ct;
    if (ct) h.push(['content-type', ct]);
    return [...h, ...(over.extra ?? [])];
  };
  const mk = (category: string, req: Partial<RawRequest> & { headers?: [string, string][] }): Input => ({
    category,
    req: {
      method: r.method,
      target: req.target ?? target(validId, validQuery),
      headers: req.headers ?? headers(),
      body: 'body' in req ? req.body : isGet ? undefined : validBody,
      ...(req.chunkSize ? { chunkSize: req.chunkSize } : {}),
    },
  });
  const parts: { arbitrary: fc.Arbitrary<Input>; weight: number }[] = [];

  if (doc.body && fx.valid) {
    const isValid = (v: unknown) => {
      const out = doc.body!.safeParse(v);
      return out.success && (fx.semantic ? fx.semantic(out.data) : true);
    };
    const bodies = fc
      .oneof({ arbitrary: mutations(fx.valid()), weight: 5 }, { arbitrary: nasty, weight: 1 })
      .map((v) => Buffer.from(ser(v)))
      .filter((b) => {
        if (b.length > 60_000) return false; // the oversized category covers that
        const v = parsedBody(b);
        // a body nested deeper than the server reads is refused before any schema (server/json-depth.ts), so
        // it is invalid without asking the schema — which could not answer: zod's length checks recurse
        // through a deep array under a `length` key until the stack overflows
        return v === MALFORMED || jsonDepthExceeds(v) || !isValid(v);
      });
    parts.push({ arbitrary: bodies.map((body) => mk('body', { body })), weight: 8 });
  }
  if (hasId) {
    const schema = (doc.params ?? null) as z.ZodType | null;
    const ids = idCandidate.filter((raw) => {
      // not empty (`/api/polls/` is the list route) and the request line stays under Node's 16 KB header limit
      if (!raw.length || raw.length > 11_000) return false;
      const d = decodeParam(raw);
      if (d === null || !schema) return true;
      const out = schema.safeParse({ id: d });
      // a well-formed id is still invalid here when no fixture has it (404); fixture ids are all small
      return !out.success || !(Number((out.data as { id: unknown }).id) <= 100_000);
    });
    parts.push({ arbitrary: ids.map((id) => mk('param', { target: target(id, validQuery) })), weight: 5 });
  }
  if (doc.query) {
    const q = doc.query;
    const qs = queryCandidate(Object.keys(q.shape)).filter((s) => {
      if (s.length > 11_000) return false;
      const parsed = parseQuery(s) as Record<string, unknown>;
      return !q.safeParse(parsed).success || (fx.querySemantic ? !fx.querySemantic(parsed) : false);
    });
    parts.push({ arbitrary: qs.map((s) => mk('query', { target: target(validId, s) })), weight: 5 });
  }
  parts.push({ arbitrary: malformedJson.map((body) => mk('malformed-json', { body })), weight: 4 });
  parts.push({
    arbitrary: fc.integer({ min: 65_600, max: 70_000 }).map((n) => mk('oversized', { body: Buffer.from(`{"a":"${'x'.repeat(n)}"}`) })),
    weight: 1,
  });
  // the same junk without a Content-Length (transfer-encoding: chunked): body-parser enforces the limit mid-stream
  parts.push({
    arbitrary: fc
      .tuple(
        fc.oneof(malformedJson, fc.integer({ min: 65_600, max: 90_000 }).map((n) => Buffer.from(`{"a":"${'x'.repeat(n)}"}`))),
        fc.integer({ min: 1, max: 20_000 }),
      )
      // tiny chunks only for small bodies (80 KB in 1-byte chunks costs both sides more than it tests)
      .map(([body, chunkSize]) => mk('chunked', { body, chunkSize: body.length > 2_000 ? Math.max(chunkSize, 4_096) : chunkSize })),
    weight: 1,
  });
  const someBody = validBody ?? Buffer.from('{"a":1}');
  parts.push({ arbitrary: fc.constantFrom(...BAD_CHARSETS).map((cs) => mk('charset', { headers: headers({ ct: `application/json; charset=${cs}` }), body: someBody })), weight: 1 });
  parts.push({
    arbitrary: fc.oneof(
      fc.tuple(fc.constantFrom('gzip', 'deflate', 'br', 'x-gzip', 'compress', 'bogus', 'zstd', 'gzip, gzip', 'identity, gzip'), fc.constant(someBody)),
      // a real gzip stream, cut short
      fc.nat().map((n) => {
        const z = gzipSync(someBody);
        return ['gzip', z.subarray(0, 1 + (n % (z.length - 1)))] as [string, Buffer];
      }),
    ).map(([enc, body]) => mk('content-encoding', { headers: headers({ extra: [['content-encoding', enc]] }), body })),
    weight: 2,
  });
  if (!isGet) {
    parts.push({ arbitrary: fc.constantFrom(...BAD_CONTENT_TYPES).map((ct) => mk('content-type', { headers: headers({ ct: ct || null }), body: someBody })), weight: 2 });
    // CSRF: with a cookie, a foreign or missing Origin; the sign-in routes refuse a foreign one without a cookie too
    const origins = cookie
      ? fc.oneof(
          fc.constantFrom(...FOREIGN_ORIGINS).map((o) => headers({ origin: o })),
          fc.constantFrom('http://evil.test/x', 'not a url', '', 'http://app.test.evil.test/').map((ref) => headers({ origin: null, extra: ref ? [['referer', ref]] : [] })),
        )
      : r.path.startsWith('/api/auth/')
        ? fc.constantFrom(...FOREIGN_ORIGINS).map((o) => headers({ origin: o }))
        : null;
    if (origins) parts.push({ arbitrary: origins.map((h) => mk('origin', { headers: h })), weight: 2 });
  }
  if (doc.auth !== 'public') {
    const wrong = Array.isArray(doc.auth) && !doc.auth.includes('resident') ? [cookies.resident] : [];
    parts.push({ arbitrary: fc.constantFrom(...COOKIE_JUNK, ...wrong).map((c) => mk('auth', { headers: headers({ cookie: c || null }) })), weight: 2 });
  }
  return fc.oneof(...parts);
}

export type RouteStats = { statuses: Map<number, number>; codes: Map<string, number>; categories: Map<string, number>; bad: Outcome[] };
export const inc = <K>(m: Map<K, number>, k: K) => m.set(k, (m.get(k) ?? 0) + 1);
export const top = <K>(m: Map<K, number>, n = 5) => [...m].sort((a, b) => b[1] - a[1]).slice(0, n).map(([k, v]) => `${String(k)}:${v}`).join(' ');

// ---------------------------------------------------------------------------------------------------------
