import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fc from 'fast-check';
import { io as ioClient, type Socket as ClientSocket } from 'socket.io-client';
import { faultRedis, makeStaff, makeVoters, redisDigest, digestDiff, pool, FAULT_ORIGIN, type FaultRedis } from '../helpers/faults.ts';
import { fromList, fuzzServer, rawPool, type FuzzServer, type RawRequest, type RawResponse } from '../helpers/fuzz.ts';
import { nastyShallow, nastyString, Obj, PROTO_KEYS, ser } from '../helpers/fuzz-json.ts';
import { check, describeInput, inc, inputSize, routeInputs, sampler, STACK, top, type Fixture, type Input, type Outcome, type RouteStats, type RouteUnderFuzz, type Who } from '../helpers/fuzz-routes.ts';
import { pollBody } from '../helpers/polls.ts';
import { finalisedPoll } from '../helpers/decisions.ts';
import { expressRoutes } from '../../server/openapi/document.ts';
import { createApp } from '../../server/app.ts';
import { apiCatalog } from '../../server/openapi/catalog.ts';
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
// a fresh seed per local run explores; CI replays one known seed so its verdict is about the change
const SEED = Number(process.env.FUZZ_SEED ?? (process.env.CI ? 703394766 : Date.now() % 2_147_483_647));
const CONCURRENCY = 16;
const PREFIX = 'fz:';
/**
 * Keys that change by design on rejected requests: rate-limiter counters (every hit counts, rejected ones too)
 * and the open count's refusal counters (a refused ballot is counted: that is the integrity page's figure).
 */
const DIGEST_IGNORE = [/^fz:rate:/, /^fz:poll:\{p:[\d.s]+\}:counts$/];


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
      // a published poll is never deleted (invalid_state) even with a valid request; the draft stays for the others
      'delete /api/polls/:id': { id: poll(() => activeId) },
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
      'get /api/polls/:id/rate': { id: poll(() => activeId) },
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
      'get /api/openapi.json': {},
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
    // Our City's routes need PostgreSQL and take multipart bodies: tests/faults/city-fuzz.test.ts fuzzes them
    const live = expressRoutes(createApp(srv.ctx)).filter((r) => r.path.startsWith('/api/') && !r.path.startsWith('/api/city/'));
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
