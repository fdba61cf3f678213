import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fc from 'fast-check';
import { parse as parseQuery } from 'node:querystring';
import { gzipSync } from 'node:zlib';
import { io as ioClient, type Socket as ClientSocket } from 'socket.io-client';
import type { z } from 'zod';
import { faultRedis, makeStaff, makeVoters, redisDigest, digestDiff, pool, FAULT_ORIGIN, type FaultRedis } from '../helpers/faults.ts';
import { fromList, fuzzServer, rawPool, type FuzzServer, type RawRequest, type RawResponse } from '../helpers/fuzz.ts';
import { pollBody } from '../helpers/polls.ts';
import { finalisedPoll } from '../helpers/decisions.ts';
import { expressRoutes } from '../../server/openapi/document.ts';
import { createApp } from '../../server/app.ts';
import { apiCatalog } from '../../server/openapi/catalog.ts';
import type { RouteDoc } from '../../server/openapi/registry.ts';
import { SESSION_COOKIE } from '../../server/auth/auth.middleware.ts';
import { ERROR_CODES } from '../../shared/errors.ts';
import { ballotIssues, pollCreateSchema, type PollDefinition } from '../../shared/polls.ts';
import { rewardCreateSchema } from '../../shared/rewards.ts';
import { pollWatchPayload } from '../../shared/socket.ts';

/**
 * Fuzzing every /api route and every socket event with inputs that are INVALID by construction (DESIGN §4:
 * bad input gets a 4xx `{error:{code,message,details}}` and changes nothing; never a 500).
 *
 * HTTP
 * - Routes come from the Express router stack (walked as openapi.test.ts does); each route's params, query and
 *   body zod schemas come from the OpenAPI catalog (server/openapi/catalog.ts). A generated input is kept only
 *   if that schema (plus the route's own semantic check, e.g. ballotIssues, the merged-draft check) REJECTS it,
 *   so "no Redis change" is a valid assertion. A live route without a fixture line (`F` in beforeAll) or
 *   without a catalog entry fails the first test, named.
 * - The caller is a role that reaches the handler's validation (from the catalog's `auth`: resident /
 *   moderator / official / admin) on fixtures where the input matters: an open poll the resident may vote in,
 *   a draft to patch, a finalised poll for decisions, a reward. Where a valid request would itself change
 *   state and nothing in it can be invalid (publish, close, redeem, logout), the fixture is one where even a
 *   valid request is refused (a draft without dates, a resident without points) or only transport junk reaches it.
 * - Categories: invalid body / query / path param, malformed JSON, oversized body (> 64 KB), wrong content type,
 *   unsupported charset, lying Content-Encoding, foreign or missing Origin, missing/garbage session cookie or
 *   wrong role (the rest of the request valid).
 * - Every response: 4xx, JSON, `{error:{code,message[,details]}}` (details is omitted when there are none) with
 *   a known code whose status matches, no stack trace or source path. After each route's batch: no `error`
 *   line in the server's log, /healthz answers, the server process is alive, and a Redis digest (SCAN + DUMP
 *   hash of every key) is unchanged. DUMP carries no TTL, so the sliding idle expiry a session gets on every
 *   request (by design) does not show; rate-limiter counters (`rate:` keys, which count rejected hits by
 *   design) are left out of the digest.
 * Sockets (real socket.io-client over WebSocket, a resident's session): poll:watch and poll:unwatch with
 *   invalid payloads (every ack `{ok:false,error:{code,message}}`), bad ack shapes, ping:server with junk,
 *   unknown events (never acked), then malformed packets and frames over maxHttpBufferSize (the server drops
 *   that connection; the test reconnects). The socket answers ping:server after each batch.
 *
 * The server runs as its own process (tests/helpers/fuzz-server.entry.ts, same assembly as server/main.ts) on a
 * redis-server this file starts, with rate limits raised so they never mask validation: OTP_PER_PHONE_PER_HOUR
 * and OTP_PER_IP_PER_HOUR through env, the per-socket event limiter through createRealtime's `rateLimit`
 * option (not an env setting; the default would throttle, then disconnect, a fuzzing socket).
 * Inputs are sampled with fast-check (FUZZ_SEED replays a run; the seed is printed) in chunks as 16 keep-alive
 * connections ask for them; a failure prints the route's smallest failing inputs. FUZZ_RUNS (default 10000)
 * inputs per route and per socket event; a table of counts, statuses and codes per route is printed.
 */

const RUNS = Number(process.env.FUZZ_RUNS ?? 10_000);
const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 2_147_483_647);
const CONCURRENCY = 16;
const PREFIX = 'fz:';
/**
 * Keys that change by design on rejected requests: rate-limiter counters (every hit counts, rejected ones too)
 * and the open count's refusal counters (a refused ballot is counted: that is the integrity page's figure).
 */
const DIGEST_IGNORE = [/^fz:rate:/, /^fz:poll:\{p:[\d.s]+\}:counts$/];

type Who = 'anon' | 'resident' | 'moderator' | 'official' | 'admin' | 'logout';
type Fixture = {
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

/** A raw JSON token, written as is (numbers JSON.stringify cannot write: -0, 1e308, 10k digits, …). */
class Raw {
  readonly text: string;
  constructor(text: string) {
    this.text = text;
  }
}
/** An object as a list of entries: keeps `__proto__` as a plain key and allows duplicate keys. */
class Obj {
  readonly entries: [string, unknown][];
  constructor(entries: [string, unknown][]) {
    this.entries = entries;
  }
}
function ser(v: unknown): string {
  if (v instanceof Raw) return v.text;
  if (v instanceof Obj) return `{${v.entries.map(([k, x]) => `${JSON.stringify(k)}:${ser(x)}`).join(',')}}`;
  if (Array.isArray(v)) return `[${v.map(ser).join(',')}]`;
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'object') return ser(new Obj(Object.entries(v)));
  if (typeof v === 'number') return Number.isFinite(v) ? JSON.stringify(v) : 'null';
  return JSON.stringify(v);
}

const PROTO_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'valueOf', 'hasOwnProperty', '__defineGetter__'];
const WEIRD_STRINGS = [
  '', ' ', '\u0000', 'a\u0000b', '\ud800', '\udfff', 'x\ud83dy', '\u202eevil', '\u200f\u05e9\u05dc\u05d5\u05dd', 'مرحبا', '🙂👍🏽',
  '\u0301', '\ufeff', '\r\n', '\t', '%00', '%zz', '../../etc/passwd', '<script>alert(1)</script>', "' OR 1=1 --", '${7*7}', '{{7*7}}',
  'null', 'undefined', 'NaN', '-0', '1e308', 'true', '[]', '{}', ...PROTO_KEYS, 'd1.1', 'q1', 'o1', 'arbat', '+79991234567', '123456',
];
const NUMBER_TOKENS = ['-0', '0', '-1', '1e308', '-1e308', '1E+400', '1e-400', '0.1', '4.5', '9007199254740993', '1e21', '123456789012345678901234567890', '-2147483649'];

const nastyString = fc.oneof(
  { arbitrary: fc.constantFrom(...WEIRD_STRINGS), weight: 4 },
  { arbitrary: fc.string({ unit: 'binary', maxLength: 40 }), weight: 3 },
  { arbitrary: fc.string({ unit: 'grapheme', maxLength: 20 }), weight: 1 },
  { arbitrary: fc.integer({ min: 200, max: 12_000 }).map((n) => 'x'.repeat(n)), weight: 1 },
  { arbitrary: fc.integer({ min: 50, max: 2_000 }).map((n) => '\ud800'.repeat(n)), weight: 1 },
);
const nastyNumber = fc.oneof(
  fc.constantFrom(...NUMBER_TOKENS).map((t) => new Raw(t)),
  fc.integer({ min: 1_000, max: 10_000 }).map((n) => new Raw('9'.repeat(n))),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.integer(),
);
/** Nesting deeper than any schema: arrays or objects, 100–20,000 levels. */
const deepNest = fc.tuple(fc.integer({ min: 100, max: 20_000 }), fc.boolean()).map(([d, arr]) => new Raw(arr ? `${'['.repeat(d)}${']'.repeat(d)}` : `${'{"a":'.repeat(d)}1${'}'.repeat(d)}`));
const nastyLeaf = fc.oneof(nastyString, nastyNumber, fc.constantFrom(null, true, false));
const nastyOf = (deep: boolean) =>
  fc.letrec((tie) => ({
    nasty: fc.oneof(
      { arbitrary: nastyLeaf, weight: 6 },
      { arbitrary: fc.array(tie('nasty'), { maxLength: 4 }), weight: 1 },
      { arbitrary: fc.array(fc.tuple(fc.oneof(fc.constantFrom(...PROTO_KEYS), nastyString), tie('nasty')), { maxLength: 4 }).map((e) => new Obj(e)), weight: 1 },
      ...(deep ? [{ arbitrary: deepNest as fc.Arbitrary<unknown>, weight: 1 }] : []),
    ),
  })).nasty;
/** Junk JSON: leaves above, arrays, objects with prototype keys, very deep nesting. */
const nasty = nastyOf(true);
/** The same without the 20,000-level nesting (socket payloads: the client's encoder recurses). */
const nastyShallow = nastyOf(false);

type Path = (string | number)[];
function pathsOf(v: unknown, at: Path = [], out: Path[] = []): Path[] {
  if (at.length) out.push(at);
  if (Array.isArray(v)) v.forEach((x, i) => pathsOf(x, [...at, i], out));
  else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) pathsOf(x, [...at, k], out);
  return out;
}
/** A copy of `v` with the node at `path` replaced (`fn` gets the old node). */
function edit(v: unknown, path: Path, fn: (old: unknown) => unknown): unknown {
  if (!path.length) return fn(v);
  const [head, ...rest] = path;
  if (Array.isArray(v)) return v.map((x, i) => (i === head ? edit(x, rest, fn) : x));
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, k === head ? edit(x, rest, fn) : x]));
  return v;
}
const parentOf = (p: Path) => p.slice(0, -1);

/** Mutations of a valid body: a node replaced by junk, dropped, an unknown or prototype key added, wrapped, … */
function mutations(valid: unknown): fc.Arbitrary<unknown> {
  const paths = pathsOf(valid);
  const objectPaths: Path[] = [[], ...paths.filter((p) => { const n = p.reduce<any>((o, k) => o?.[k], valid); return n && typeof n === 'object' && !Array.isArray(n); })];
  const anyPath = paths.length ? fc.constantFrom(...paths) : fc.constant<Path>([]);
  return fc.oneof(
    { arbitrary: fc.tuple(anyPath, nasty).map(([p, junk]) => edit(valid, p, () => junk)), weight: 6 },
    {
      // drop a key
      arbitrary: anyPath.map((p) => edit(valid, parentOf(p), (o) => (Array.isArray(o) ? o.filter((_, i) => i !== p[p.length - 1]) : o && typeof o === 'object' ? Object.fromEntries(Object.entries(o).filter(([k]) => k !== p[p.length - 1])) : o))),
      weight: 2,
    },
    {
      // an extra key (often a prototype key) on some object, possibly carrying valid-looking fields
      arbitrary: fc.tuple(fc.constantFrom(...objectPaths), fc.oneof(fc.constantFrom(...PROTO_KEYS), nastyString), fc.oneof(nasty, fc.constant(valid))).map(([p, k, x]) =>
        edit(valid, p, (o) => new Obj([...Object.entries(o as object), [k, x]])),
      ),
      weight: 3,
    },
    {
      // a duplicate key: the last one wins in JSON.parse
      arbitrary: fc.tuple(anyPath.filter((p) => typeof p[p.length - 1] === 'string'), nasty).map(([p, junk]) =>
        edit(valid, parentOf(p), (o) => new Obj([...Object.entries(o as object), [String(p[p.length - 1]), junk]])),
      ),
      weight: 2,
    },
    { arbitrary: fc.constantFrom<unknown>([valid], new Obj([['__proto__', valid]]), new Obj([['data', valid]]), [], {}, [[valid]]), weight: 1 },
    { arbitrary: fc.integer({ min: 50, max: 5_000 }).map((d) => new Raw(`${'['.repeat(d)}${ser(valid)}${']'.repeat(d)}`)), weight: 1 },
  );
}

const MALFORMED = Symbol('malformed');
/** What body-parser (strict) makes of a body: MALFORMED when not JSON at all or not an object/array at the top. */
function parsedBody(buf: Buffer): unknown {
  const text = buf.toString('utf8');
  const first = /^[\x20\x09\x0a\x0d]*([^\x20\x09\x0a\x0d])/.exec(text)?.[1];
  if (first !== '{' && first !== '[') return MALFORMED;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return MALFORMED;
  }
}
const isMalformed = (buf: Buffer) => parsedBody(buf) === MALFORMED;
const malformedJson = fc
  .oneof(
    fc.constantFrom(
      '{', '}', '[', ']', '{"a":}', '{"a":1,}', '[1,]', "{'a':1}", '{a:1}', 'NaN', '{"a":NaN}', '{"a":Infinity}', '{"a":-Infinity}', '{"a":undefined}',
      '{"a":01}', '{"a":.5}', '{"a":1.}', '{"a":+1}', '{"a":0x10}', '{"a":"\\x41"}', '{"a":"\\u12"}', '{"a":"\u0000"}', '{"a":1}//c', '/*c*/{}',
      '{"a":1}}', '{"a":1} x', 'true', 'false', 'null', '1', '-0', '1e308', '"str"', '"{}"', '   ', '\u0000', '\\', '{"__proto__":}', '[' .repeat(5000),
    ),
    // valid JSON text of junk, cut or with a stray character somewhere
    fc.tuple(nasty.map(ser), fc.nat(), fc.constantFrom('', '}', ']', ',', ':', '"', '\\', 'x', '\u0000', '\n{')).map(([t, at, ch]) => {
      const i = t.length ? at % t.length : 0;
      return ch === '' ? t.slice(0, i) : t.slice(0, i) + ch + t.slice(i);
    }),
    // not text at all
    fc.uint8Array({ minLength: 1, maxLength: 200 }).map((b) => Buffer.from(b)),
  )
  .map((x) => (Buffer.isBuffer(x) ? x : Buffer.from(x)))
  .filter((b) => b.length > 0 && isMalformed(b));

/** Percent-encode every byte of the UTF-8 form (lone surrogates become U+FFFD, as a browser would send them). */
const pctAll = (s: string) => [...Buffer.from(s, 'utf8')].map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join('');
const pctSome = (s: string) => {
  try {
    return encodeURIComponent(s);
  } catch {
    return pctAll(s);
  }
};
/** Path-param candidates as they appear in the request target (already encoded, or deliberately broken). */
const idCandidate = fc.oneof(
  {
    arbitrary: fc.constantFrom(
      '-1', '0', '00', '01', '1e3', '1E3', '0x10', '0b1', '0o7', '1.5', '1.0', '%201', '1%20', '+1', '%2B1', 'Infinity', '-Infinity', 'NaN', '-0', 'null', 'undefined',
      'true', '%5B%5D', '%7B%7D', '__proto__', 'constructor', 'prototype', 'toString', '%00', '1%00', '%', '%zz', '%E0%A4%A', '%C0%AF', '%FF%FE', '%ED%A0%80',
      '%2F', '1%2F2', '%2e%2e', '..', '.', '1;2', '1,2', '1%0A', '%0D%0A1', '9007199254740993', '1000000000000000', '9'.repeat(16), '9'.repeat(400),
      '9'.repeat(10_000), `1${'0'.repeat(9_999)}`, pctSome('１'), pctSome('١'), '%EF%BC%91',
    ),
    weight: 5,
  },
  { arbitrary: nastyString.filter((s) => s.length < 3_000).map(pctSome), weight: 3 },
  { arbitrary: fc.integer({ min: -1_000_000, max: 0 }).map(String), weight: 1 },
  { arbitrary: fc.double({ noNaN: true }).map(String).map(pctSome), weight: 1 },
  { arbitrary: fc.stringMatching(/^[1-9][0-9]{15,60}$/), weight: 1 },
  // well-formed ids no fixture has: 404 (never a fixture id: those are small)
  { arbitrary: fc.integer({ min: 1_000_000, max: 2_000_000_000 }).map(String), weight: 1 },
);
const decodeParam = (raw: string): string | null => {
  try {
    return decodeURIComponent(raw);
  } catch {
    return null;
  }
};

/** Query strings: known keys with junk values, repeated keys, prototype keys, brackets, broken encodings. */
function queryCandidate(keys: string[]): fc.Arbitrary<string> {
  const key = fc.oneof(
    { arbitrary: fc.constantFrom(...(keys.length ? keys : ['x'])), weight: 4 },
    { arbitrary: fc.constantFrom(...PROTO_KEYS, '', 'x', 'status[]', 'limit[0]', 'a[b]', 'q.x'), weight: 2 },
    { arbitrary: nastyString.filter((s) => s.length < 200).map(pctSome), weight: 1 },
  );
  const value = fc.oneof(
    { arbitrary: fc.constantFrom('', '-1', '0', '1e3', '0x10', '1.5', 'NaN', 'Infinity', '-0', '1e308', 'null', 'true', '[]', '%zz', '%', '%00', '%E0%A4%A', 'active', 'draft', '+79991234567'), weight: 4 },
    { arbitrary: nastyString.filter((s) => s.length < 6_000).map(pctSome), weight: 3 },
    { arbitrary: fc.integer({ min: 101, max: 5_000 }).map((n) => '9'.repeat(n)), weight: 1 },
    { arbitrary: fc.integer({ min: -1_000, max: 100_000 }).map(String), weight: 2 },
  );
  return fc
    .array(fc.tuple(key, value, fc.boolean()), { minLength: 1, maxLength: 5 })
    .map((pairs) => pairs.map(([k, v, withEq]) => (withEq || v ? `${k}=${v}` : k)).join('&'));
}

// ---------------------------------------------------------------------------------------------------------
// one fuzz input and its checks

type Input = { category: string; req: RawRequest };
type Outcome = { input: Input; res: RawResponse; problem: string | null };

const STACK = /\n\s+at |node_modules|\.ts:\d+|\.js:\d+|\/work\/|\bTypeError\b|\bReferenceError\b/;

function check(res: RawResponse): string | null {
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

function describeInput(i: Input): string {
  const body = i.req.body ? i.req.body.toString('utf8') : '';
  const t = i.req.target;
  return `[${i.category}] ${i.req.method} ${t.length > 200 ? `${t.slice(0, 200)}…(${t.length})` : t} ${JSON.stringify(i.req.headers.filter(([k]) => k !== 'cookie'))}${i.req.headers.some(([k]) => k === 'cookie') ? ' +cookie' : ''} body(${body.length}): ${JSON.stringify(body.slice(0, 300))}`;
}

const inputSize = (i: Input) => i.req.target.length + (i.req.body?.length ?? 0);

/**
 * `total` samples of `arb`, generated in chunks of `chunk` (seed + chunk index: reproducible) as the senders
 * ask for them: generating overlaps with the server process working on the requests in flight.
 */
function sampler<T>(arb: fc.Arbitrary<T>, total: number, seed: number, chunk = 32) {
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

const FOREIGN_ORIGINS = ['http://evil.test', 'null', 'http://app.test.evil.test', 'https://app.test', 'http://APP.test', 'http://app.test:80', 'file://', 'http://127.0.0.1', 'x'];
const BAD_CHARSETS = ['latin1', 'iso-8859-1', 'koi8-r', 'windows-1251', 'us-ascii', 'x-bogus', 'utf8', 'ebcdic-cp-us', 'binary'];
const BAD_CONTENT_TYPES = ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/xml', 'text/json', 'application/jsonx', 'application/octet-stream', 'image/png', ''];
const COOKIE_JUNK = [
  '', `${SESSION_COOKIE}=`, `${SESSION_COOKIE}=garbage`, `${SESSION_COOKIE}=%zz`, `${SESSION_COOKIE}=${'A'.repeat(43)}`, `${SESSION_COOKIE}=${'-'.repeat(43)}`,
  `${SESSION_COOKIE}="${'B'.repeat(43)}"`, `${SESSION_COOKIE}=__proto__`, `__proto__=1; ${SESSION_COOKIE}=constructor`, `${SESSION_COOKIE}=${'x'.repeat(3000)}`, ';;;=;', `${SESSION_COOKIE}=\u00ff`,
];

type RouteUnderFuzz = { key: string; method: string; path: string; doc: RouteDoc; fx: Fixture; who: Who };

/** Every invalid input a route can get, as one weighted fast-check arbitrary. */
function routeInputs(r: RouteUnderFuzz, cookies: Record<string, string>): fc.Arbitrary<Input> {
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
        return v === MALFORMED || !isValid(v);
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

type RouteStats = { statuses: Map<number, number>; codes: Map<string, number>; categories: Map<string, number>; bad: Outcome[] };
const inc = <K>(m: Map<K, number>, k: K) => m.set(k, (m.get(k) ?? 0) + 1);
const top = <K>(m: Map<K, number>, n = 5) => [...m].sort((a, b) => b[1] - a[1]).slice(0, n).map(([k, v]) => `${String(k)}:${v}`).join(' ');

// ---------------------------------------------------------------------------------------------------------

describe('fuzz: every /api route and socket event refuses invalid input with a 4xx JSON error and changes nothing', () => {
  let redis: FaultRedis;
  let srv: FuzzServer;
  const cookies = {} as Record<Exclude<Who, 'anon'>, string>;
  const table: Record<string, string | number>[] = [];
  let draftId = 0;
  let activeId = 0;
  let finalId = 0;
  let rewardId = 0;
  let victimId = 0;
  let draftDef: PollDefinition;
  let activeDef: PollDefinition;
  const fixtures = new Map<string, Fixture>();

  beforeAll(async () => {
    redis = await faultRedis('fuzz', 'everysec');
    srv = await fuzzServer(redis.url, PREFIX, { OTP_PER_PHONE_PER_HOUR: '1000', OTP_PER_IP_PER_HOUR: '100000' });
    const ctx = srv.ctx;
    const [resident, victim, voter] = await makeVoters(ctx, 3, 1000);
    const logoutUser = (await makeVoters(ctx, 1, 2000))[0];
    const moderator = await makeStaff(ctx, '+79990003001', ['resident', 'moderator']);
    const official = await makeStaff(ctx, '+79990003002', ['resident', 'official']);
    const admin = await makeStaff(ctx, '+79990003003', ['resident', 'admin']);
    Object.assign(cookies, { resident: resident.cookie, moderator: moderator.cookie, official: official.cookie, admin: admin.cookie, logout: logoutUser.cookie });
    victimId = victim.user.id;

    const draftBody = pollBody({ opensAt: null, closesAt: null });
    draftDef = pollCreateSchema.parse(draftBody);
    draftId = (await ctx.polls.create(draftBody, moderator.user)).id;
    const activeBody = pollBody({ points: 0 });
    activeDef = pollCreateSchema.parse(activeBody);
    activeId = (await ctx.polls.publish((await ctx.polls.create(activeBody, moderator.user)).id)).id;
    finalId = (await finalisedPoll(ctx, moderator.user, [voter.user])).poll.id;
    rewardId = (await ctx.rewards.create(rewardCreateSchema.parse({ name: 'Metro card', price: 10, stock: 5 }))).id;

    const poll = (id: () => number) => () => String(id());
    const F: Record<string, Fixture> = {
      'post /api/auth/otp': { valid: () => ({ phone: '+79991234567' }) },
      'post /api/auth/verify': { valid: () => ({ phone: '+79991234567', code: '123456' }) },
      // a valid logout would end this session: only transport-level junk and foreign origins reach it
      'post /api/auth/logout': { who: 'logout' },
      'get /api/me': {},
      'patch /api/me': { valid: () => ({ name: 'Fuzz Resident', district: 'tverskoy', birthYear: 1980, gender: 'male' }) },
      'get /api/districts': {},
      'get /api/users': { validQuery: 'phone=%2B79990001000', querySemantic: (q) => q.phone !== undefined },
      'get /api/users/:id': { id: () => String(victimId) },
      'put /api/users/:id/roles': { id: () => String(victimId), valid: () => ({ roles: ['resident', 'moderator'] }) },
      'get /api/polls': {},
      'post /api/polls': { valid: () => pollBody() },
      'get /api/polls/:id': { id: poll(() => activeId) },
      'patch /api/polls/:id': {
        id: poll(() => draftId),
        valid: () => ({ title: 'A better title', points: 5, questions: draftDef.questions.slice(0, 2) }),
        // the merged draft is re-validated: a patch that makes it invalid is invalid
        semantic: (b) => pollCreateSchema.safeParse({ ...draftDef, ...(b as object) }).success,
      },
      // the draft has no dates: publishing it is refused (invalid_poll) even with a valid request
      'post /api/polls/:id/publish': { id: poll(() => draftId) },
      // a draft cannot be closed (invalid_state) even with a valid request
      'post /api/polls/:id/close': { id: poll(() => draftId) },
      'post /api/polls/:id/ballots': {
        id: poll(() => activeId),
        valid: () => ({ answers: { q1: ['o2'], q2: ['o1', 'o4'], q3: ['yes'] } }),
        semantic: (b) => ballotIssues(activeDef.questions, (b as { answers: Record<string, string[]> }).answers).length === 0,
      },
      'get /api/polls/:id/results': { id: poll(() => finalId) },
      'get /api/polls/:id/decision': { id: poll(() => finalId) },
      'post /api/polls/:id/decision': { id: poll(() => finalId), valid: () => ({ summary: 'The park goes north', body: 'Works start in May.' }) },
      'post /api/polls/:id/decision/status': { id: poll(() => finalId), valid: () => ({ status: 'in_progress', note: 'Contract signed' }) },
      'get /api/archive': {},
      'get /api/polls/:id/results.json': { id: poll(() => finalId) },
      'get /api/polls/:id/results.csv': { id: poll(() => finalId) },
      'get /api/polls/:id/integrity': { id: poll(() => finalId) },
      'get /api/polls/:id/representativeness': { id: poll(() => finalId) },
      'get /api/polls/:id/ledger.jsonl': { id: poll(() => finalId) },
      'get /api/polls/:id/ledger.csv': { id: poll(() => finalId) },
      'get /api/me/notifications': {},
      'get /api/me/notifications/unread': {},
      'post /api/me/notifications/read': { valid: () => ({ ids: ['d1.1', 'd2.3'] }) },
      'get /api/me/points': {},
      'get /api/rewards': {},
      'get /api/rewards/:id': { id: () => String(rewardId) },
      'post /api/rewards': { valid: () => ({ name: 'Theatre tickets', description: 'Two seats', price: 500, stock: 10, active: true }) },
      'patch /api/rewards/:id': { id: () => String(rewardId), valid: () => ({ price: 20, stock: 3 }) },
      // the resident has no points: a valid redemption is refused (insufficient_points)
      'post /api/rewards/:id/redeem': { id: () => String(rewardId) },
      'get /api/me/redemptions': {},
      'get /api/docs': {},
    };
    for (const [k, v] of Object.entries(F)) fixtures.set(k, v);
  });

  afterAll(async () => {
    if (table.length) console.table(table);
    try {
      await srv?.close();
    } finally {
      await redis?.destroy();
    }
  });

  /** Every live route of the router stack, with its catalog entry and fixture. */
  function liveRoutes() {
    const catalog = new Map(apiCatalog().routes().map((r) => [`${r.method} /api${r.path}`, r]));
    // the server process runs this same createApp: its router stack is this one
    const live = expressRoutes(createApp(srv.ctx)).filter((r) => r.path.startsWith('/api/'));
    return live.map((r) => ({ key: `${r.method} ${r.path}`, method: r.method.toUpperCase(), path: r.path, doc: catalog.get(`${r.method} ${r.path}`), fx: fixtures.get(`${r.method} ${r.path}`) }));
  }

  it('when the router stack is walked, then every /api route has a catalog entry (schemas) and a fuzz fixture here', () => {
    const routes = liveRoutes();
    expect(routes.length).toBeGreaterThan(30);
    expect(routes.filter((r) => !r.doc).map((r) => r.key), 'routes missing from server/openapi/catalog.ts').toEqual([]);
    expect(routes.filter((r) => !r.fx).map((r) => r.key), 'add a FIXTURES line in tests/faults/fuzz.test.ts for these routes').toEqual([]);
    expect([...fixtures.keys()].filter((k) => !routes.some((r) => r.key === k)), 'fixtures of routes that no longer exist').toEqual([]);
  });

  it('when path params carry broken percent-encodings or the body a lying Content-Encoding, then 400 JSON, never 500 (regressions)', async () => {
    const pool = rawPool(srv.port, 2);
    const cases: Input[] = [
      // Express's router throws a URIError (status 400, no `type`) the error middleware turned into a 500
      ...['/api/polls/%E0%A4%A', '/api/polls/%', '/api/rewards/%zz', '/api/users/%FF%/roles', '/api/polls/%zz/results.csv'].map((target) => ({
        category: 'regression',
        req: { method: 'GET', target, headers: [['cookie', cookies.admin]] as [string, string][] },
      })),
      // body-parser's zlib error for `content-encoding: gzip|deflate|br` on a plain body: a 500 too
      ...['gzip', 'deflate', 'br'].map((enc) => ({
        category: 'regression',
        req: { method: 'GET', target: '/api/districts', headers: [['content-type', 'application/json'], ['content-encoding', enc]] as [string, string][], body: Buffer.from('{"a":1}') },
      })),
    ];
    const seen: Outcome[] = [];
    await pool.run(fromList(cases), (c) => c.req, (input, res) => seen.push({ input, res, problem: check(res) }));
    pool.close();
    for (const o of seen) {
      expect(o.problem, describeInput(o.input)).toBeNull();
      expect(o.res.status, describeInput(o.input)).toBe(400);
    }
  });

  it('when every /api route gets FUZZ_RUNS invalid inputs, then each answer is a 4xx JSON error, no 5xx, no stack trace, the server stays up and Redis is unchanged', { timeout: 600_000 }, async () => {
    const routes: RouteUnderFuzz[] = liveRoutes().map((r) => ({
      ...r,
      doc: r.doc!,
      fx: r.fx!,
      who: r.fx!.who ?? (r.doc!.auth === 'public' ? 'anon' : r.doc!.auth === 'user' ? 'resident' : (r.doc!.auth[0] as Who)),
    }));
    expect(routes.every((r) => r.doc && r.fx)).toBe(true);
    console.log(`[fuzz] seed ${SEED} (FUZZ_SEED=${SEED} replays it), ${RUNS} inputs per route, ${routes.length} routes, ${CONCURRENCY} keep-alive connections`);
    const pool = rawPool(srv.port, CONCURRENCY);
    const failures: string[] = [];
    const t00 = performance.now();
    try {
      for (const [i, r] of routes.entries()) {
        const before = await redisDigest(srv.ctx.redis, DIGEST_IGNORE);
        const logMark = srv.logLines().length;
        const inputs = sampler(routeInputs(r, cookies), RUNS, (SEED + i * 100_003) % 2_147_483_647);
        const st: RouteStats = { statuses: new Map(), codes: new Map(), categories: new Map(), bad: [] };
        const t0 = performance.now();
        await pool.run(inputs.next, (x) => x.req, (input, res) => {
          inc(st.statuses, res.status);
          inc(st.categories, input.category);
          const problem = check(res);
          if (problem) st.bad.push({ input, res, problem });
          else inc(st.codes, JSON.parse(res.body.toString('utf8')).error.code as string);
        });
        const ms = performance.now() - t0;
        const changed = digestDiff(before, await redisDigest(srv.ctx.redis, DIGEST_IGNORE));
        const errors = srv.logLines().slice(logMark).filter((l) => l.level >= 50);
        const health = await fetch(`${srv.url}/healthz`).then((x) => x.status, (e: Error) => e.message);
        table.push({
          route: `${r.method} ${r.path}`,
          as: r.who,
          inputs: inputs.made(),
          's (of which gen)': `${(ms / 1000).toFixed(1)} (${(inputs.genMs() / 1000).toFixed(1)})`,
          statuses: top(st.statuses, 6),
          codes: top(st.codes, 4),
          categories: top(st.categories, 10),
          bad: st.bad.length,
          redis: changed.length ? `CHANGED ${changed.length}` : 'same',
        });
        const tag = `${r.method} ${r.path} (as ${r.who})`;
        const nFailed = failures.length;
        if (st.bad.length) {
          const smallest = [...st.bad].sort((a, b) => inputSize(a.input) - inputSize(b.input)).slice(0, 5);
          failures.push(
            `${tag}: ${st.bad.length} bad answers; smallest:\n${smallest.map((o) => `    ${o.problem} <- ${describeInput(o.input)} => ${o.res.status} ${o.res.body.toString('utf8').slice(0, 300)}`).join('\n')}`,
          );
        }
        if (changed.length) failures.push(`${tag}: Redis changed: ${changed.slice(0, 10).join(', ')}`);
        if (errors.length) failures.push(`${tag}: ${errors.length} error log lines, e.g. ${errors[0].line.slice(0, 600)}`);
        if (health !== 200) failures.push(`${tag}: /healthz answered ${health} after the batch`);
        if (srv.proc.child.exitCode !== null || srv.proc.child.signalCode !== null) {
          failures.push(`${tag}: the server process exited (${srv.proc.child.exitCode ?? srv.proc.child.signalCode}): ${srv.proc.output().slice(-2000)}`);
          break;
        }
        if (failures.length > nFailed) console.log(failures.slice(nFailed).join('\n'));
      }
    } finally {
      pool.close();
    }
    console.log(`[fuzz] HTTP: ${routes.length} routes x ${RUNS} inputs in ${((performance.now() - t00) / 1000).toFixed(1)} s`);
    expect(failures, failures.join('\n')).toEqual([]);
  });

  it('when every socket event gets FUZZ_RUNS invalid payloads (poll:watch, poll:unwatch, ping:server, unknown events, bad ack shapes), then every ack is {ok:false,error:{code,message}}, sockets and server stay healthy and Redis is unchanged', { timeout: 300_000 }, async () => {
    const before = await redisDigest(srv.ctx.redis, DIGEST_IGNORE);
    const logMark = srv.logLines().length;
    const t00 = performance.now();
    const connect = (cookie: string | null) =>
      new Promise<ClientSocket>((res, rej) => {
        const s = ioClient(srv.url, { transports: ['websocket'], forceNew: true, reconnection: false, extraHeaders: { origin: FAULT_ORIGIN, ...(cookie ? { cookie } : {}) } });
        s.once('connect', () => res(s));
        s.once('connect_error', (e) => rej(e));
      });
    const ping = (s: ClientSocket, ms = 5_000) =>
      new Promise<boolean>((res) => {
        if (!s.connected) return res(false);
        s.timeout(ms).emit('ping:server', (err: unknown, a: { ok?: boolean }) => res(!err && a?.ok === true));
      });
    const ackProblem = (a: any): string | null => {
      if (!a || typeof a !== 'object' || a.ok !== false) return `not {ok:false}: ${JSON.stringify(a)?.slice(0, 200)}`;
      if (Object.keys(a).some((k) => k !== 'ok' && k !== 'error')) return `extra keys ${Object.keys(a).join()}`;
      const e = a.error;
      if (!e || typeof e.code !== 'string' || !(e.code in ERROR_CODES) || typeof e.message !== 'string' || !e.message) return `bad error ${JSON.stringify(e)?.slice(0, 200)}`;
      if (Object.keys(e).some((k) => !['code', 'message', 'details'].includes(k))) return `error keys ${Object.keys(e).join()}`;
      if (STACK.test(JSON.stringify(a))) return 'stack trace in the ack';
      return null;
    };
    const hasBuffer = (v: unknown) => Buffer.isBuffer(v) || (!!v && typeof v === 'object' && Object.values(v).some((x) => Buffer.isBuffer(x)));
    /** What the server receives: JSON round trip (NaN → null, -0 → 0), Buffers as binary attachments. */
    const onWire = (v: unknown) => (hasBuffer(v) ? v : JSON.parse(JSON.stringify([v]))[0]);
    const toJs = (v: unknown) => JSON.parse(ser(v)) as unknown;
    // under maxHttpBufferSize (16 KB), and not so deep that the client's own encoder overflows its stack
    const small = (v: unknown) => {
      try {
        return Buffer.byteLength(JSON.stringify([v]) ?? '') < 12_000 && ser(v).split('[', 2_001).length <= 2_000;
      } catch {
        return false;
      }
    };
    const junk = fc.oneof(
      { arbitrary: nastyShallow.map(toJs), weight: 4 },
      { arbitrary: nastyShallow.map((v) => toJs(new Obj([['pollId', v]]))), weight: 4 },
      { arbitrary: fc.tuple(fc.constantFrom(...PROTO_KEYS, 'extra', 'pollid', 'PollId', ''), nastyShallow).map(([k, v]) => toJs(new Obj([['pollId', activeId], [k, v]]))), weight: 2 },
      { arbitrary: fc.constantFrom<unknown>(undefined, null, [], {}, '', 0, -0, NaN, Infinity, [activeId], { pollId: [activeId] }, { pollId: String(activeId) }, { pollId: activeId + 0.5 }, { pollId: -activeId }), weight: 1 },
      { arbitrary: fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b)), weight: 1 },
      { arbitrary: fc.uint8Array({ maxLength: 64 }).map((b) => ({ pollId: Buffer.from(b) })), weight: 1 },
      { arbitrary: fc.integer({ min: 10, max: 1_500 }).map((d) => JSON.parse(`${'['.repeat(d)}${']'.repeat(d)}`) as unknown), weight: 1 },
    );
    const invalidFor = (event: 'poll:watch' | 'poll:unwatch') =>
      fc.oneof(junk, ...(event === 'poll:watch' ? [fc.integer({ min: 1_000_000, max: 2_000_000_000 }).map((pollId) => ({ pollId }))] : [])).filter((v) => {
        if (!small(v)) return false;
        const r = pollWatchPayload.safeParse(onWire(v));
        // poll:watch of a poll that does not exist is refused (not_found); poll:unwatch of any well-formed id is fine
        return !r.success || (event === 'poll:watch' && r.data.pollId > 100_000);
      });

    const rows: Record<string, string | number>[] = [];
    const problems: string[] = [];
    const sock = await connect(cookies.resident);
    try {
      // 1. poll:watch / poll:unwatch with invalid payloads: every ack {ok:false,error}
      for (const event of ['poll:watch', 'poll:unwatch'] as const) {
        const tg = performance.now();
        const payloads = fc.sample(invalidFor(event), { numRuns: RUNS, seed: SEED + 1_000 });
        const gen = ((performance.now() - tg) / 1000).toFixed(1);
        const codes = new Map<string, number>();
        let bad = 0;
        const t0 = performance.now();
        await pool(payloads, 128, async (p) => {
          const a = await new Promise<unknown>((res) => sock.timeout(20_000).emit(event, p, (err: unknown, ack: unknown) => res(err ? { timeout: String(err) } : ack)));
          const problem = ackProblem(a);
          if (problem) {
            if (++bad <= 5) problems.push(`${event} ${JSON.stringify(p)?.slice(0, 200)}: ${problem}`);
          } else inc(codes, (a as { error: { code: string } }).error.code);
        });
        rows.push({ event, inputs: payloads.length, 's (gen+send)': `${gen}+${((performance.now() - t0) / 1000).toFixed(1)}`, acks: top(codes), bad, healthy: String(await ping(sock)) });
      }

      // 2. bad ack shapes: no ack, the ack in the wrong place (sent as data), extra arguments before the ack
      {
        const shapes = fc.sample(
          fc
            .tuple(fc.constantFrom('poll:watch', 'poll:unwatch'), fc.constantFrom('none', 'data-ack', 'extra-args'), invalidFor('poll:unwatch'), fc.array(junk.filter((x) => !hasBuffer(x)), { maxLength: 3 }))
            // one packet under 16 KB; no Buffer among the extra args: with any binary arg the client rebuilds every
            // object with for..in + assignment, which drops a `__proto__` key from the payload (a client artefact)
            .filter(([, , p, extra]) => small([p, ...extra])),
          { numRuns: RUNS, seed: SEED + 2_000 },
        );
        let acked = 0;
        let bad = 0;
        const t0 = performance.now();
        await pool(shapes, 128, async ([event, shape, p, extra]) => {
          if (shape === 'none') sock.emit(event, p);
          else if (shape === 'data-ack') sock.emit(event, p, { ack: true }, 'not a function');
          else {
            const a = await new Promise<unknown>((res) => sock.timeout(20_000).emit(event, p, ...extra, (err: unknown, ack: unknown) => res(err ? { timeout: String(err) } : ack)));
            acked++;
            const problem = ackProblem(a);
            if (problem && ++bad <= 5) problems.push(`${event} ${shape} ${JSON.stringify([p, ...extra])?.slice(0, 200)}: ${problem}`);
          }
        });
        rows.push({ event: 'bad ack shapes (watch/unwatch)', inputs: shapes.length, s: ((performance.now() - t0) / 1000).toFixed(1), acks: `${acked} acked with ok:false`, bad, healthy: String(await ping(sock)) });
      }

      // 3. ping:server with junk where its ack should be (it must not answer, nor throw), and unknown events
      //    with and without an ack (no handler: never answered)
      {
        const pings = fc.sample(fc.array(junk, { minLength: 1, maxLength: 3 }).filter(small), { numRuns: RUNS, seed: SEED + 3_000 });
        let answered = 0;
        const t0 = performance.now();
        for (const args of pings) sock.emit('ping:server', ...args, () => answered++);
        const healthy = await ping(sock, 20_000);
        rows.push({ event: 'ping:server (junk args)', inputs: pings.length, s: ((performance.now() - t0) / 1000).toFixed(1), acks: `${answered} answered`, bad: answered, healthy: String(healthy) });
        if (answered) problems.push(`ping:server answered ${answered} calls whose first argument was not an ack`);
      }
      {
        const RESERVED = ['connect', 'connect_error', 'disconnect', 'disconnecting', 'newListener', 'removeListener'];
        const KNOWN = ['poll:watch', 'poll:unwatch', 'ping:server'];
        const name = fc
          .oneof(
            fc.constantFrom(...PROTO_KEYS, 'error', 'poll:watch ', ' poll:watch', 'POLL:WATCH', 'poll:Watch', 'poll:watch\u0000', 'poll:tally', 'poll:status', 'poll:participants', 'session', 'notification', 'points', 'ballot:cast', 'ping', 'message', 'connection', '*', '', ' ', '\u0000', '\ud800'),
            nastyString.filter((x) => x.length < 200),
          )
          .filter((n) => !RESERVED.includes(n) && !KNOWN.includes(n));
        const events = fc.sample(fc.tuple(name, fc.array(junk, { maxLength: 3 }), fc.boolean()).filter(([n, args]) => small([n, ...args])), { numRuns: RUNS, seed: SEED + 4_000 });
        let answered = 0;
        const t0 = performance.now();
        for (const [n, args, withAck] of events) {
          if (withAck) sock.emit(n, ...args, () => answered++);
          else sock.emit(n, ...args);
        }
        const healthy = await ping(sock, 20_000);
        rows.push({ event: 'unknown events', inputs: events.length, s: ((performance.now() - t0) / 1000).toFixed(1), acks: `${answered} answered`, bad: answered, healthy: String(healthy) });
        if (answered) problems.push(`${answered} unknown events were acked`);
      }
      if (!(await ping(sock))) problems.push('the fuzzing socket stopped answering ping:server');
    } finally {
      sock.disconnect();
    }

    // 4. frames the server must drop the connection for (over maxHttpBufferSize, or not a valid Socket.IO
    //    packet, reserved event names included): the connection goes, the server stays; reconnect each time
    {
      const RAW = [
        '2', '2[', '2{}', '2[]', '2"x"', '2[null]', '2[{}]', '2["disconnect"]', '2["disconnecting"]', '2["connect"]', '2["newListener","x"]', '2["removeListener"]',
        '2["poll:watch"', '21e308["poll:watch",{}]', '2-1["poll:watch",{}]', '299999999999999999999999["poll:watch",{}]', '2/nope,["poll:watch",{}]', '2/,["x"]', '3["x"]',
        '312345["x"]', '1', '0', '0{"x":1}', '4', '5', '6', '9', 'x', '51-["poll:watch",{"_placeholder":true,"num":0}]', '2["poll:watch",{"_placeholder":true,"num":0}]',
        '2["poll:watch",{"pollId":{"_placeholder":true,"num":99}}]', `2${'['.repeat(5_000)}`, `2["poll:watch",${'{"a":'.repeat(3_000)}1${'}'.repeat(3_000)}]`,
      ];
      const frames = [
        ...RAW.map((f) => ({ kind: 'raw', f })),
        ...fc.sample(fc.string({ unit: 'binary', maxLength: 60 }), { numRuns: 100, seed: SEED + 5_000 }).map((f) => ({ kind: 'raw', f: `2${f}` })),
        ...fc.sample(fc.integer({ min: 17_000, max: 40_000 }), { numRuns: 30, seed: SEED + 6_000 }).map((n) => ({ kind: 'oversized', f: 'x'.repeat(n) })),
      ];
      let dropped = 0;
      const t0 = performance.now();
      let s = await connect(cookies.resident);
      for (const { kind, f } of frames) {
        const gone = new Promise<void>((res) => s.once('disconnect', () => res()));
        if (kind === 'raw') (s.io.engine as unknown as { write: (m: string) => void }).write(f);
        else s.emit('poll:watch', { pollId: f });
        const alive = await Promise.race([gone.then(() => false), ping(s, 3_000)]);
        if (!alive) {
          dropped++;
          s.disconnect();
          s = await connect(cookies.resident);
        }
      }
      const healthy = await ping(s);
      s.disconnect();
      rows.push({ event: 'malformed / oversized frames', inputs: frames.length, s: ((performance.now() - t0) / 1000).toFixed(1), acks: `${dropped} connections dropped, then reconnected`, bad: 0, healthy: String(healthy) });
      if (!healthy) problems.push('a fresh socket could not ping after the malformed frames');
    }

    // the server still serves a valid watch, its HTTP side answers, nothing changed in Redis, nothing logged at error
    const fresh = await connect(cookies.resident);
    const watch = await new Promise<any>((res) => fresh.timeout(10_000).emit('poll:watch', { pollId: activeId }, (err: unknown, a: unknown) => res(err ?? a)));
    fresh.disconnect();
    console.table(rows);
    console.log(`[fuzz] sockets: ${rows.reduce((n, r) => n + Number(r.inputs), 0)} inputs in ${((performance.now() - t00) / 1000).toFixed(1)} s`);
    expect(watch?.ok, JSON.stringify(watch)).toBe(true);
    expect((await fetch(`${srv.url}/healthz`)).status).toBe(200);
    expect(srv.proc.child.exitCode).toBeNull();
    expect(problems, problems.join('\n')).toEqual([]);
    for (const r of rows) expect(r.healthy, String(r.event)).toBe('true');
    const errors = srv.logLines().slice(logMark).filter((l) => l.level >= 50);
    expect(errors.map((l) => l.line)).toEqual([]);
    expect(digestDiff(before, await redisDigest(srv.ctx.redis, DIGEST_IGNORE))).toEqual([]);
  });

  it('when a VALID request is sent (a control), then the oracles see it: check() flags the 2xx and the Redis digest changes', async () => {
    const before = await redisDigest(srv.ctx.redis, DIGEST_IGNORE);
    const pool = rawPool(srv.port, 1);
    let res: RawResponse | null = null;
    const body = Buffer.from(JSON.stringify({ name: 'Control Resident' }));
    await pool.run(
      fromList([{ category: 'control', req: { method: 'PATCH', target: '/api/me', headers: [['cookie', cookies.resident], ['origin', FAULT_ORIGIN], ['content-type', 'application/json']], body } as RawRequest }]),
      (c) => c.req,
      (_i, r) => (res = r),
    );
    pool.close();
    expect(res!.status).toBe(200);
    expect(check(res!)).toMatch(/accepted/);
    const changed = digestDiff(before, await redisDigest(srv.ctx.redis, DIGEST_IGNORE));
    expect(changed.some((k) => k.startsWith(`${PREFIX}user:`)), changed.join()).toBe(true);
  });
});
