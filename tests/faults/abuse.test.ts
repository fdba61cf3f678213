import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawn } from 'node:child_process';
import { freePort } from '../../server/redis/redis-server.ts';
import type { AppContext } from '../../server/context.ts';
import { apiCatalog } from '../../server/openapi/catalog.ts';
import { ROOT } from '../helpers/processes.ts';
import { startCodeSink, type CodeSink } from '../helpers/auth.ts';
import { faultPostgres, type FaultPostgres } from '../helpers/city-faults.ts';
import { connectSocket, ask, nextEvent, record, type ClientSocket } from '../helpers/sockets.ts';
import { pollBody, publishedPoll } from '../helpers/polls.ts';
import {
  faultRedis,
  faultContext,
  processRegistry,
  processEnv,
  spawnServer,
  spawnWorker,
  makeVoters,
  makeStaff,
  publishViaApi,
  castHttp,
  checkIntegrity,
  redisDigest,
  digestDiff,
  queueSettled,
  percentile,
  sleep,
  FAULT_ORIGIN,
  type FaultRedis,
} from '../helpers/faults.ts';

/**
 * Abuse against the real platform: a real redis-server (AOF always), a real `server/main.ts` and
 * `server/worker.ts` as child processes, abusers as separate Node processes (so their CPU is not the
 * measuring process's event loop). Sign-in codes go to a local webhook sink (OTP_SENDER=webhook).
 *
 * Latency bounds (this machine: 2 cores shared with other agents' test runs, load average ~10):
 * "within normal latency" is judged against a baseline measured in the same test minutes before, on
 * the same processes: p99 under abuse <= max(3 x baseline p99, baseline p99 + 50 ms). The factor 3
 * absorbs scheduler noise from neighbours; +50 ms is the floor when the baseline is a few ms (a single
 * 50 ms descheduling of the server is not a regression). A server that serialised victims behind the
 * abuser (a blocking hash, an unbounded queue, an event-loop stall per rejected request) blows through
 * both at once: 1,000 attempts a minute cost it tens of seconds of wall time. Live frames are quantised by
 * the 200 ms broadcast tick, so their floor is one tick plus slack: max(3 x baseline p99, baseline p99 + 250 ms).
 */

const FOREIGN = 'https://evil.example';
/**
 * The platform's error code of a refusal. Open311 answers GeoReport v2's [{code: the status, description}]
 * instead: there the status and the description name it.
 */
function errorCodeOf(path: string, status: number, body: any): string | undefined {
  if (!path.startsWith('/open311/v2/')) return body?.error?.code;
  const e = Array.isArray(body) && body.length === 1 && body[0]?.code === status ? String(body[0].description) : '';
  if (status === 403 && /Cross-origin/.test(e)) return 'csrf_rejected';
  if (status === 401 && e) return 'unauthenticated';
  return undefined;
}
const OTP_MAX_ATTEMPTS = 5;
const OTP_PER_PHONE_PER_HOUR = 5;

/** A plain-JS Node program (ESM, bare imports resolve from the repo) as a child process; resolves its stdout at exit. */
function runNode(code: string, env: Record<string, string>) {
  const child = spawn(process.execPath, ['--input-type=module', '-e', code], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err += d));
  const done = new Promise<string>((res, rej) =>
    child.once('exit', (c) => (c === 0 ? res(out) : rej(new Error(`abuser exited ${c}: ${err.slice(-2000)}`)))),
  );
  return { child, done };
}

/**
 * Open-loop sign-in abuser: RATE requests a minute for DURATION_MS on one phone from one address, alternating
 * POST /api/auth/otp {phone} and POST /api/auth/verify {phone, random code}; never waits for a reply before
 * sending the next (a slow server does not slow the attacker). Prints one JSON summary line.
 */
const SIGNIN_ABUSER = String.raw`
const { BASE, PHONE, RATE, DURATION_MS, ORIGIN } = process.env;
const interval = 60000 / Number(RATE);
const byKind = { otp: {}, verify: {} };
let r429 = 0, r429WithRetryAfter = 0, network = 0;
const retryAfters = [];
const ms = [];
const inflight = new Set();
const t0 = performance.now();
for (let i = 0; performance.now() - t0 < Number(DURATION_MS); i++) {
  const kind = i % 2 === 0 ? 'otp' : 'verify';
  const body = kind === 'otp' ? { phone: PHONE } : { phone: PHONE, code: String(Math.floor(Math.random() * 1e6)).padStart(6, '0') };
  const s = performance.now();
  const p = fetch(BASE + '/api/auth/' + kind, { method: 'POST', headers: { 'content-type': 'application/json', origin: ORIGIN }, body: JSON.stringify(body) })
    .then(async (r) => {
      const j = await r.json().catch(() => null);
      const key = r.status + (j && j.error ? ':' + j.error.code : '');
      byKind[kind][key] = (byKind[kind][key] || 0) + 1;
      if (r.status === 429) {
        r429++;
        const ra = Number(r.headers.get('retry-after'));
        if (ra > 0) { r429WithRetryAfter++; retryAfters.push(ra); }
      }
      ms.push(performance.now() - s);
    })
    .catch(() => network++)
    .finally(() => inflight.delete(p));
  inflight.add(p);
  const next = t0 + (i + 1) * interval;
  const wait = next - performance.now();
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
}
const sent = Object.values(byKind).reduce((s, k) => s + Object.values(k).reduce((a, b) => a + b, 0), 0) + inflight.size + network;
await Promise.all([...inflight]);
ms.sort((a, b) => a - b);
const pct = (p) => ms[Math.min(ms.length - 1, Math.floor(p / 100 * ms.length))];
console.log(JSON.stringify({ sent, seconds: (performance.now() - t0) / 1000, byKind, r429, r429WithRetryAfter, network,
  retryAfterMin: Math.min(...retryAfters), retryAfterMax: Math.max(...retryAfters), p50: pct(50), p99: pct(99) }));
`;

/**
 * Socket flooder: for DURATION_MS, connect (with a session cookie), fire BURST poll:watch events at once,
 * wait to be cut off, reconnect and do it again. Prints one JSON summary line.
 */
const SOCKET_FLOODER = String.raw`
import { io } from 'socket.io-client';
const { BASE, COOKIE, ORIGIN, POLL_ID, DURATION_MS, BURST } = process.env;
let ok = 0, limited = 0, other = 0, connections = 0, refused = 0, maxOkPerConnection = 0;
const reasons = {};
const t0 = performance.now();
while (performance.now() - t0 < Number(DURATION_MS)) {
  const s = io(BASE, { transports: ['websocket'], forceNew: true, reconnection: false, extraHeaders: { cookie: COOKIE, origin: ORIGIN } });
  const connected = await new Promise((res) => { s.once('connect', () => res(true)); s.once('connect_error', () => res(false)); setTimeout(() => res(false), 5000); });
  if (!connected) { refused++; s.close(); await new Promise((r) => setTimeout(r, 50)); continue; }
  connections++;
  let okHere = 0;
  const gone = new Promise((res) => s.once('disconnect', (r) => res(r)));
  for (let i = 0; i < Number(BURST); i++) {
    s.emit('poll:watch', { pollId: Number(POLL_ID) }, (a) => {
      if (a && a.ok) { ok++; okHere++; } else if (a && a.error && a.error.code === 'rate_limited') limited++; else other++;
    });
  }
  const reason = await Promise.race([gone, new Promise((r) => setTimeout(() => r('still connected after 3 s'), 3000))]);
  reasons[reason] = (reasons[reason] || 0) + 1;
  maxOkPerConnection = Math.max(maxOkPerConnection, okHere);
  s.close();
}
console.log(JSON.stringify({ seconds: (performance.now() - t0) / 1000, connections, refused, ok, limited, other, maxOkPerConnection, reasons }));
`;

describe('abuse: brute force, sign-in flood, socket flood, cross-origin writes against the real platform', () => {
  const procs = processRegistry();
  let redis: FaultRedis;
  // Our City's routes are live only with their database: the cross-origin test covers them too
  let pgs: FaultPostgres;
  let ctx: AppContext;
  let sink: CodeSink;
  let server: Awaited<ReturnType<typeof spawnServer>>;
  const prefix = 'f:abuse:';
  const open: ClientSocket[] = [];

  beforeAll(async () => {
    [redis, pgs] = await Promise.all([faultRedis('abuse', 'always'), faultPostgres('abuse')]);
    ctx = faultContext(redis.url, prefix);
    sink = await startCodeSink();
    const env = processEnv(redis.url, prefix, {
      OTP_SENDER: 'webhook',
      OTP_WEBHOOK_URL: sink.url,
      OTP_MAX_ATTEMPTS: String(OTP_MAX_ATTEMPTS),
      OTP_PER_PHONE_PER_HOUR: String(OTP_PER_PHONE_PER_HOUR),
      DATABASE_URL: pgs.url,
      // the cross-origin case compares all of Redis before and after: the worker's own schedules must not
      // fire inside that window (each run rewrites its queue's delayed set, id counter and events stream)
      AWARD_SWEEP_EVERY_MS: '3600000',
      CITY_SWEEP_MS: '3600000',
      ARCHIVE_SWEEP_MS: '3600000',
      REDEMPTION_RECONCILE_AFTER_MS: '86400000',
    });
    server = procs.add(await spawnServer(env, await freePort()));
    procs.add(await spawnWorker(env));
  });
  afterAll(async () => {
    for (const s of open) s.close();
    await procs.killAll();
    await sink?.close();
    await ctx?.close().catch(() => {});
    await redis?.destroy();
    await pgs?.destroy();
  });

  const post = (path: string, body: unknown, headers: Record<string, string>) =>
    fetch(`${server.url}${path}`, { method: 'POST', headers, body: JSON.stringify(body) });

  it('when one phone\'s code is brute-forced, then it is locked out after OTP_MAX_ATTEMPTS guesses, the right code no longer works, and a phone gets at most 4 judged guesses per code and 5 codes an hour', async () => {
    const phone = '+79160000001';
    const h = { 'content-type': 'application/json', origin: FAULT_ORIGIN, 'x-forwarded-for': '198.51.100.21' };
    expect((await post('/api/auth/otp', { phone }, h)).status).toBe(202);
    const code = sink.last(phone);
    const wrong = (i: number) => String((Number(code) + 1 + i) % 1_000_000).padStart(6, '0');

    let attempts = 0;
    let last: Response;
    const statuses: number[] = [];
    do {
      last = await post('/api/auth/verify', { phone, code: wrong(attempts) }, h);
      attempts++;
      statuses.push(last.status);
      expect(last.headers.getSetCookie()).toEqual([]);
    } while (last.status === 401 && attempts < 50);
    const lockBody = (await last.json()) as any;
    console.log(`[abuse: OTP brute force] ${attempts} guesses until lock-out (statuses ${statuses.join(',')}), then ${last.status} ${lockBody.error.code}, Retry-After ${last.headers.get('retry-after')} s`);
    expect(attempts).toBe(OTP_MAX_ATTEMPTS);
    expect(statuses).toEqual([...Array(OTP_MAX_ATTEMPTS - 1).fill(401), 429]);
    expect(lockBody.error.code).toBe('too_many_attempts');
    expect(Number(last.headers.get('retry-after'))).toBeGreaterThan(0);
    // the right code after the lock-out: refused, no session
    const right = await post('/api/auth/verify', { phone, code }, h);
    expect(right.status).toBe(429);
    expect(right.headers.getSetCookie()).toEqual([]);
    expect(await ctx.redis.hexists(ctx.keys.userByPhone(), phone)).toBe(0);

    // the attacker starts over with fresh codes until the per-phone hourly limit: count every judged guess
    let codes = 1;
    let judged = statuses.filter((s) => s === 401).length;
    let limitedOtp: Response | null = null;
    for (let i = 0; i < 20; i++) {
      const r = await post('/api/auth/otp', { phone }, h);
      if (r.status === 429) {
        limitedOtp = r;
        break;
      }
      expect(r.status).toBe(202);
      codes++;
      const fresh = sink.last(phone);
      for (let g = 0; g < 10; g++) {
        const guess = String((Number(fresh) + 1 + g) % 1_000_000).padStart(6, '0');
        const v = await post('/api/auth/verify', { phone, code: guess }, h);
        if (v.status === 401) judged++;
        else {
          expect(v.status).toBe(429);
          break;
        }
      }
    }
    expect(limitedOtp, 'the per-phone code limit never answered 429').not.toBeNull();
    const limitedBody = (await limitedOtp!.json()) as any;
    expect(limitedBody.error.code).toBe('rate_limited');
    const retryAfter = Number(limitedOtp!.headers.get('retry-after'));
    console.log(
      `[abuse: OTP brute force] per phone and hour: ${codes} codes issued, ${judged} guesses judged (the rest 429) -> success chance ${(judged / 1e6).toExponential(1)} per hour; code #${codes + 1} refused 429 rate_limited, Retry-After ${retryAfter} s`,
    );
    expect(codes).toBe(OTP_PER_PHONE_PER_HOUR);
    expect(judged).toBe(OTP_PER_PHONE_PER_HOUR * (OTP_MAX_ATTEMPTS - 1));
    expect(retryAfter).toBeGreaterThan(3500);
  });

  it('when one phone gets 1,000 sign-in attempts in a minute from another process, then they are throttled with 429 + Retry-After and another signed-in resident\'s ballot latency stays within max(3x, +50 ms) of its baseline', async () => {
    const mod = await makeStaff(ctx, '+79160000100', ['moderator']);
    const [victim] = await makeVoters(ctx, 1, 160_001_000);
    const BASELINE_VOTES = 120;
    const ABUSE_MS = 60_000;
    const PACE_MS = 125; // the victim votes 8 times a second, one poll after another
    const polls: number[] = [];
    for (let i = 0; i < BASELINE_VOTES + Math.ceil(ABUSE_MS / PACE_MS) + 40; i++) polls.push((await publishedPoll(ctx, mod.user, { points: 5 })).id);
    await queueSettled(ctx, 'lifecycle', 60_000); // the open jobs of 600 polls are done before measuring
    let next = 0;
    const voteLoop = async (until: () => boolean) => {
      const ms: number[] = [];
      const statuses: Record<number, number> = {};
      while (until() && next < polls.length) {
        const t = performance.now();
        const r = await castHttp(server.url, victim.headers, polls[next++], { q1: ['o1'], q2: ['o2'] });
        ms.push(r.ms);
        statuses[r.status] = (statuses[r.status] ?? 0) + 1;
        const wait = PACE_MS - (performance.now() - t);
        if (wait > 0) await sleep(wait);
      }
      return { ms, statuses };
    };

    const base = await voteLoop(() => next < BASELINE_VOTES);
    const phone = '+79160000200';
    const abuser = runNode(SIGNIN_ABUSER, { BASE: server.url, PHONE: phone, RATE: '1000', DURATION_MS: String(ABUSE_MS), ORIGIN: FAULT_ORIGIN });
    let abuseOver = false;
    void abuser.done.then(() => (abuseOver = true), () => (abuseOver = true));
    const during = await voteLoop(() => !abuseOver);
    const a = JSON.parse((await abuser.done).trim().split('\n').at(-1)!) as {
      sent: number;
      seconds: number;
      byKind: Record<'otp' | 'verify', Record<string, number>>;
      r429: number;
      r429WithRetryAfter: number;
      network: number;
      retryAfterMin: number;
      retryAfterMax: number;
      p50: number;
      p99: number;
    };
    const b50 = percentile(base.ms, 50);
    const b99 = percentile(base.ms, 99);
    const d50 = percentile(during.ms, 50);
    const d99 = percentile(during.ms, 99);
    const bound = Math.max(3 * b99, b99 + 50);
    console.log(
      `[abuse: sign-in flood] abuser sent ${a.sent} requests in ${a.seconds.toFixed(1)} s on one phone from one address: otp ${JSON.stringify(a.byKind.otp)}, verify ${JSON.stringify(a.byKind.verify)}; ${a.r429} answered 429 (${a.r429WithRetryAfter} with Retry-After, ${a.retryAfterMin}..${a.retryAfterMax} s), ${a.network} network errors; abuser's own p50/p99 ${a.p50.toFixed(1)}/${a.p99.toFixed(1)} ms`,
    );
    console.log(
      `[abuse: sign-in flood] victim ballot POST latency: baseline ${base.ms.length} votes p50 ${b50.toFixed(1)} ms p99 ${b99.toFixed(1)} ms; during the flood ${during.ms.length} votes p50 ${d50.toFixed(1)} ms p99 ${d99.toFixed(1)} ms (bound ${bound.toFixed(1)} ms = max(3 x ${b99.toFixed(1)}, ${b99.toFixed(1)} + 50))`,
    );
    expect(a.sent).toBeGreaterThanOrEqual(990);
    expect(a.network).toBe(0);
    // throttled: at most OTP_PER_PHONE_PER_HOUR codes were issued and nobody got in
    expect(a.byKind.otp['202'] ?? 0).toBeLessThanOrEqual(OTP_PER_PHONE_PER_HOUR);
    expect(a.byKind.verify['200'] ?? 0).toBe(0);
    expect(a.byKind.verify['401:invalid_code'] ?? 0).toBeLessThanOrEqual(OTP_PER_PHONE_PER_HOUR * (OTP_MAX_ATTEMPTS - 1));
    expect(a.r429).toBeGreaterThan(a.sent - 40);
    expect(a.r429WithRetryAfter).toBe(a.r429);
    expect(sink.received.filter((r) => r.phone === phone).length).toBeLessThanOrEqual(OTP_PER_PHONE_PER_HOUR);
    // the victim: every ballot accepted, latency within the bound
    expect(base.statuses).toEqual({ 201: base.ms.length });
    expect(during.statuses).toEqual({ 201: during.ms.length });
    expect(during.ms.length).toBeGreaterThan(300);
    expect(d99).toBeLessThanOrEqual(bound);
  });

  it('when one client floods its socket (and reconnects to flood again), then it is rate limited and cut off each time while another watcher still gets tally frames on time', async () => {
    const mod = await makeStaff(ctx, '+79160000300', ['moderator']);
    const watcherUser = await makeStaff(ctx, '+79160000301', ['official']);
    const pollId = await publishViaApi(server.url, mod.headers, { points: 0 });
    const voters = await makeVoters(ctx, 260, 160_003_000);
    const [flooder] = await makeVoters(ctx, 1, 160_004_000);

    const watcher = await connectSocket(server.url, { cookie: watcherUser.cookie, origin: FAULT_ORIGIN });
    open.push(watcher);
    const calm = await connectSocket(server.url, { cookie: mod.cookie, origin: FAULT_ORIGIN });
    open.push(calm);
    const frames = record(watcher, 'poll:tally');
    const ack = await ask(watcher, 'poll:watch', { pollId });
    expect(ack).toMatchObject({ ok: true, data: { canSeeResults: true } });

    let v = 0;
    let calmLimited = 0;
    let calmPings = 0;
    // sequential ballots at ~10/s; for the n-th 201, the delay until the watcher holds a frame with >= n ballots
    const phase = async (ms: number) => {
      const acks: { n: number; at: number }[] = [];
      const t0 = performance.now();
      while (performance.now() - t0 < ms && v < voters.length) {
        const t = performance.now();
        const r = await castHttp(server.url, voters[v++].headers, pollId, { q1: ['o1'], q2: ['o3'] });
        expect(r.status).toBe(201);
        acks.push({ n: v, at: performance.now() });
        // a well-behaved client on the same server keeps talking at 5 events a second
        if (v % 2 === 0) {
          calmPings++;
          const p = await ask(calm, 'ping:server');
          if (!p.ok) calmLimited++;
        }
        const wait = 100 - (performance.now() - t);
        if (wait > 0) await sleep(wait);
      }
      // the frame carrying the last ballot (already recorded, or the next one that does)
      if (!frames.some((x) => x.frame.results.ballots >= v)) await nextEvent(watcher, 'poll:tally', (fr) => fr.results.ballots >= v, 10_000);
      return acks.map(({ n, at }) => {
        const f = frames.find((x) => x.frame.results.ballots >= n && x.at >= at - 1000);
        return f ? Math.max(0, f.at - at) : Infinity;
      });
    };
    const base = await phase(10_000);
    const flood = runNode(SOCKET_FLOODER, { BASE: server.url, COOKIE: flooder.cookie, ORIGIN: FAULT_ORIGIN, POLL_ID: String(pollId), DURATION_MS: '15000', BURST: '200' });
    let floodOver = false;
    void flood.done.then(() => (floodOver = true), () => (floodOver = true));
    await sleep(300);
    const during = await phase(14_000);
    const f = JSON.parse((await flood.done).trim().split('\n').at(-1)!) as {
      seconds: number;
      connections: number;
      refused: number;
      ok: number;
      limited: number;
      other: number;
      maxOkPerConnection: number;
      reasons: Record<string, number>;
    };
    expect(floodOver).toBe(true);
    const b50 = percentile(base, 50);
    const b99 = percentile(base, 99);
    const d50 = percentile(during, 50);
    const d99 = percentile(during, 99);
    const bound = Math.max(3 * b99, b99 + 250);
    console.log(
      `[abuse: socket flood] flooder: ${f.connections} connections in ${f.seconds.toFixed(1)} s, bursts of 200 poll:watch: ${f.ok} answered ok (at most ${f.maxOkPerConnection} per connection), ${f.limited} rate_limited, ${f.other} other; ended by ${JSON.stringify(f.reasons)}; ${f.refused} handshakes refused`,
    );
    console.log(
      `[abuse: socket flood] watcher frame delay after each 201 (TICK_MS 200): baseline ${base.length} ballots p50 ${b50.toFixed(0)} ms p99 ${b99.toFixed(0)} ms; during the flood ${during.length} ballots p50 ${d50.toFixed(0)} ms p99 ${d99.toFixed(0)} ms (bound ${bound.toFixed(0)} ms); the calm socket: ${calmPings} pings, ${calmLimited} rate limited`,
    );
    // the flooder was cut off, every time, after at most the burst allowance
    expect(f.connections).toBeGreaterThan(3);
    expect(f.reasons['io server disconnect']).toBe(f.connections);
    expect(f.maxOkPerConnection).toBeLessThanOrEqual(42);
    expect(f.limited).toBeGreaterThan(40 * f.connections);
    // the others: no frame missed, on time, never throttled, still connected
    expect(base.every(Number.isFinite)).toBe(true);
    expect(during.every(Number.isFinite)).toBe(true);
    expect(during.length).toBeGreaterThan(80);
    expect(d99).toBeLessThanOrEqual(bound);
    expect(calmLimited).toBe(0);
    expect(watcher.connected && calm.connected).toBe(true);
    expect(frames.at(-1)!.frame.results.ballots).toBe(v);
    await checkIntegrity(ctx, pollId, 'after the socket flood', v);
  });

  it('when state-changing requests come from a foreign Origin, or with a cookie and no Origin, then every one is 403 csrf_rejected JSON and Redis is unchanged; socket handshakes from a foreign Origin are refused', async () => {
    const admin = await makeStaff(ctx, '+79160000400', ['admin', 'moderator', 'official']);
    const mod = await makeStaff(ctx, '+79160000401', ['moderator']);
    const [resident] = await makeVoters(ctx, 1, 160_005_000);
    const active = await publishViaApi(server.url, mod.headers, { points: 0 });
    const draft = (await ctx.polls.create(pollBody(), mod.user)).id;
    const reward = await fetch(`${server.url}/api/rewards`, { method: 'POST', headers: admin.headers, body: JSON.stringify({ name: 'Museum ticket', price: 1, stock: 10 }) });
    expect(reward.status).toBe(201);
    const rewardId = ((await reward.json()) as any).reward.id as number;
    await queueSettled(ctx, 'lifecycle');

    // every state-changing route of the catalog, each with a request that WOULD change state from the right origin
    const table: Record<string, { path: string; body?: unknown }> = {
      'post /auth/otp': { path: '/api/auth/otp', body: { phone: '+79160000499' } },
      'post /auth/verify': { path: '/api/auth/verify', body: { phone: '+79160000499', code: '123456' } },
      'post /auth/logout': { path: '/api/auth/logout' },
      'patch /me': { path: '/api/me', body: { name: 'Mallory' } },
      'put /users/:id/roles': { path: `/api/users/${resident.user.id}/roles`, body: { roles: ['resident', 'admin'] } },
      'post /polls': { path: '/api/polls', body: pollBody() },
      'patch /polls/:id': { path: `/api/polls/${draft}`, body: { title: 'Hijacked' } },
      'delete /polls/:id': { path: `/api/polls/${draft}` },
      'post /polls/:id/publish': { path: `/api/polls/${draft}/publish` },
      'post /polls/:id/close': { path: `/api/polls/${active}/close` },
      'post /polls/:id/ballots': { path: `/api/polls/${active}/ballots`, body: { answers: { q1: ['o1'], q2: ['o1'] } } },
      'post /polls/:id/decision': { path: `/api/polls/${active}/decision`, body: { summary: 'Forged', body: 'Forged decision' } },
      'post /polls/:id/decision/status': { path: `/api/polls/${active}/decision/status`, body: { status: 'in_progress' } },
      'post /me/notifications/read': { path: '/api/me/notifications/read', body: { all: true } },
      'post /rewards': { path: '/api/rewards', body: { name: 'Forged', price: 1, stock: 1 } },
      'patch /rewards/:id': { path: `/api/rewards/${rewardId}`, body: { stock: 0 } },
      'post /rewards/:id/redeem': { path: `/api/rewards/${rewardId}/redeem` },
      // Our City (PostgreSQL): refused before any handler runs, so report 1 need not exist
      'post /city/categories': { path: '/api/city/categories', body: { code: 'forged', nameRu: 'Подделка', nameEn: 'Forged', orgKind: 'council', deadlineDays: 8 } },
      'patch /city/categories/:code': { path: '/api/city/categories/roof_leak', body: { deadlineDays: 40 } },
      'post /city/organisations': { path: '/api/city/organisations', body: { name: 'Forged', kind: 'council', districts: ['arbat'], categories: ['roof_leak'] } },
      'patch /city/organisations/:id': { path: '/api/city/organisations/1', body: { name: 'Hijacked' } },
      'put /city/responders/:id': { path: `/api/city/responders/${resident.user.id}`, body: { organisations: [1] } },
      'post /city/reports': { path: '/api/city/reports', body: { category: 'roof_leak', district: 'arbat', address: 'Арбат, 1', description: 'Forged report text' } },
      'post /city/reports/:id/support': { path: '/api/city/reports/1/support' },
      'post /city/reports/:id/route': { path: '/api/city/reports/1/route', body: { organisationId: 1 } },
      'post /city/reports/:id/reject': { path: '/api/city/reports/1/reject', body: { reason: 'spam', comment: 'forged' } },
      'post /city/reports/:id/merge': { path: '/api/city/reports/1/merge', body: { into: 2 } },
      'post /city/reports/:id/answer': { path: '/api/city/reports/1/answer', body: { outcome: 'fixed', text: 'Forged answer' } },
      'post /city/reports/:id/confirm': { path: '/api/city/reports/1/confirm' },
      'post /city/reports/:id/dispute': { path: '/api/city/reports/1/dispute', body: { comment: 'forged' } },
      'put /city/my/alerts': { path: '/api/city/my/alerts', body: { districts: ['arbat'], categories: [] } },
      // Open311 GeoReport v2, beside the API
      'post /requests.json': { path: '/open311/v2/requests.json', body: { service_code: 'roof_leak', description: 'Forged report text', address_string: 'Арбат, 1' } },
    };
    const routes = apiCatalog()
      .routes()
      .filter((r) => r.method !== 'get')
      .map((r) => `${r.method} ${r.path}`);
    expect(routes.filter((k) => !table[k]), 'a state-changing route this test does not cover: add it to the table').toEqual([]);
    const requests = [...routes.map((k) => ({ name: k, method: k.split(' ')[0].toUpperCase(), ...table[k] })), { name: 'bull-board pause all', method: 'PUT', path: '/admin/queues/api/queues/pause', body: undefined }];

    // keys the worker rewrites on its own clock (heartbeat, BullMQ stalled checks) are not the requests' doing
    const churn = [/sys:workers$/, /stalled-check$/];
    const before = await redisDigest(ctx.redis, churn);
    const variants: { label: string; headers: (cookie: string) => Record<string, string>; anonymous?: boolean }[] = [
      { label: 'cookie + foreign Origin', headers: (c) => ({ cookie: c, origin: FOREIGN, 'content-type': 'application/json' }) },
      { label: 'cookie + no Origin', headers: (c) => ({ cookie: c, 'content-type': 'application/json' }) },
      { label: 'cookie + foreign Referer only', headers: (c) => ({ cookie: c, referer: `${FOREIGN}/page`, 'content-type': 'application/json' }) },
      { label: 'cookie + lookalike Origin', headers: (c) => ({ cookie: c, origin: `${FAULT_ORIGIN}.evil.example`, 'content-type': 'application/json' }) },
    ];
    let refused = 0;
    const problems: string[] = [];
    for (const req of requests) {
      const cookie = req.name.includes('redeem') || req.name.includes('ballots') || req.name.includes('notifications') ? resident.cookie : admin.cookie;
      for (const v of variants) {
        const r = await fetch(`${server.url}${req.path}`, { method: req.method, headers: v.headers(cookie), body: req.body === undefined ? undefined : JSON.stringify(req.body) });
        const text = await r.text();
        let code: string | undefined;
        try {
          code = errorCodeOf(req.path, r.status, JSON.parse(text));
        } catch {
          /* not JSON */
        }
        if (r.status !== 403 || code !== 'csrf_rejected' || !/json/.test(r.headers.get('content-type') ?? '')) problems.push(`${req.name} [${v.label}] -> ${r.status} ${text.slice(0, 120)}`);
        else refused++;
      }
    }
    // no cookie at all: the sign-in routes still refuse a foreign Origin (no login CSRF); the rest are anonymous
    for (const req of requests) {
      const r = await fetch(`${server.url}${req.path}`, { method: req.method, headers: { origin: FOREIGN, 'content-type': 'application/json' }, body: req.body === undefined ? undefined : JSON.stringify(req.body) });
      const body = (await r.json().catch(() => null)) as any;
      const code = errorCodeOf(req.path, r.status, body);
      if (req.name.startsWith('post /auth/')) {
        if (r.status !== 403 || code !== 'csrf_rejected') problems.push(`${req.name} [no cookie + foreign Origin] -> ${r.status}`);
        else refused++;
      } else if (r.status !== 401 || code !== 'unauthenticated') problems.push(`${req.name} [no cookie + foreign Origin] -> ${r.status} ${JSON.stringify(body)}`);
    }
    const after = await redisDigest(ctx.redis, churn);
    const changed = digestDiff(before, after);
    console.log(`[abuse: cross-origin] ${requests.length} state-changing routes x ${variants.length} cookie variants + no-cookie: ${refused} refused 403 csrf_rejected, ${problems.length} problems; ${after.size} keys compared, ${changed.length} changed`);
    expect(problems).toEqual([]);
    expect(changed).toEqual([]);

    // control: the same digest sees a change made from the allowed origin (the comparison can fail)
    const ballot = await fetch(`${server.url}${table['post /polls/:id/ballots'].path}`, { method: 'POST', headers: resident.headers, body: JSON.stringify(table['post /polls/:id/ballots'].body) });
    expect(ballot.status).toBe(201);
    expect(digestDiff(after, await redisDigest(ctx.redis, churn)).length).toBeGreaterThan(0);

    // sockets: a foreign Origin handshake is refused (websocket and polling), with or without a cookie
    await expect(connectSocket(server.url, { origin: FOREIGN, reconnection: false })).rejects.toThrow();
    await expect(connectSocket(server.url, { origin: FOREIGN, cookie: admin.cookie, reconnection: false })).rejects.toThrow();
    const polling = await fetch(`${server.url}/socket.io/?EIO=4&transport=polling`, { headers: { origin: FOREIGN, cookie: admin.cookie } });
    const pollingText = await polling.text();
    expect(polling.status, pollingText).toBe(403);
    const allowed = await fetch(`${server.url}/socket.io/?EIO=4&transport=polling`, { headers: { origin: FAULT_ORIGIN } });
    expect(allowed.status).toBe(200);
    await allowed.body?.cancel();
    const ok = await connectSocket(server.url, { origin: FAULT_ORIGIN, cookie: admin.cookie, reconnection: false });
    open.push(ok);
    expect(ok.userId).toBe(admin.user.id);
    console.log(`[abuse: cross-origin] socket handshakes from ${FOREIGN}: websocket refused (anonymous and with a cookie), polling ${polling.status} ${pollingText.slice(0, 60)}; from ${FAULT_ORIGIN}: connected`);
  });
});
