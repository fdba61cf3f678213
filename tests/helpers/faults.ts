import { createHash, createHmac } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { loadConfig, type Config } from '../../server/config.ts';
import { createLogger } from '../../server/logger.ts';
import { createContext, type AppContext } from '../../server/context.ts';
import { startRedisServer, freePort, type RedisServerHandle } from '../../server/redis/redis-server.ts';
import type { Redis } from '../../server/redis/connection.ts';
import { SESSION_COOKIE } from '../../server/auth/auth.middleware.ts';
import type { User } from '../../shared/users.ts';
import type { PollCreate } from '../../shared/polls.ts';
import { childEnv, spawnScript, TEST_DATA_DIR, type Spawned } from './processes.ts';
import { pollBody } from './polls.ts';

/** The fault suite's secret, origin and prefix: processes and in-test contexts must agree on them. */
export const FAULT_SECRET = 'faults-secret-0123456789abcdef';
export const FAULT_ORIGIN = 'http://app.test';
export const faultLogger = createLogger({ name: 'faults', level: process.env.TEST_LOG_LEVEL ?? 'silent' });

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * A redis-server of one test file: its own temp dir, AOF with the given fsync policy, a FIXED port so a
 * restart after `kill -9` comes back where every client expects it.
 */
export type FaultRedis = {
  url: string;
  port: number;
  dir: string;
  handle: RedisServerHandle;
  /** kill -9 and wait for the exit. */
  kill9: () => Promise<void>;
  /** Start again on the same port and dir (AOF replayed). */
  restart: () => Promise<void>;
  /** Stop (SIGKILL: nothing to keep) and remove the dir. */
  destroy: () => Promise<void>;
};

export async function faultRedis(label: string, appendfsync: 'always' | 'everysec'): Promise<FaultRedis> {
  const root = mkdtempSync(join(tmpdir(), `ac-faults-${label}-`));
  const dir = join(root, 'data');
  const port = await freePort();
  const start = () => startRedisServer({ dir, port, appendfsync });
  const r: FaultRedis = {
    url: `redis://127.0.0.1:${port}`,
    port,
    dir,
    handle: await start(),
    async kill9() {
      const p = r.handle.process;
      if (p.exitCode !== null || p.signalCode !== null) return;
      const exited = new Promise((res) => p.once('exit', res));
      p.kill('SIGKILL');
      await exited;
    },
    async restart() {
      r.handle = await start();
    },
    async destroy() {
      await r.handle.stop('SIGKILL').catch(() => {});
      rmSync(root, { recursive: true, force: true });
    },
  };
  return r;
}

/** Config for in-test contexts and in-process servers on a fault file's Redis. */
export function faultConfig(redisUrl: string, prefix: string, overrides: Record<string, string> = {}): Config {
  return loadConfig({
    NODE_ENV: 'test',
    REDIS_URL: redisUrl,
    REDIS_PREFIX: prefix,
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'silent',
    APP_SECRET: FAULT_SECRET,
    SERVER_PROCESSES: '1',
    ALLOWED_ORIGINS: FAULT_ORIGIN,
    DATA_DIR: TEST_DATA_DIR,
    ...overrides,
  });
}

export function faultContext(redisUrl: string, prefix: string, overrides: Record<string, string> = {}): AppContext {
  return createContext(faultConfig(redisUrl, prefix, overrides), faultLogger);
}

/** Every child process a fault file spawned, so afterAll kills them whatever happened. */
export function processRegistry() {
  const all: Spawned[] = [];
  return {
    add<T extends Spawned>(p: T): T {
      all.push(p);
      return p;
    },
    async killAll() {
      await Promise.all(
        all.map(async (p) => {
          if (p.child.exitCode === null && p.child.signalCode === null) {
            p.child.kill('SIGKILL');
            await p.exited;
          }
        }),
      );
    },
  };
}

/** Environment of a spawned server/worker process (only what it needs; nothing of this process leaks in). */
export function processEnv(redisUrl: string, prefix: string, extra: Record<string, string> = {}): Record<string, string | undefined> {
  return childEnv(
    { REDIS_URL: redisUrl, REDIS_PREFIX: prefix, APP_SECRET: FAULT_SECRET },
    { HOST: '127.0.0.1', ALLOWED_ORIGINS: FAULT_ORIGIN, WORKER_STALLED_INTERVAL_MS: '500', SHUTDOWN_TIMEOUT_MS: '5000', ...extra },
  );
}

/** A real `server/main.ts` process on `port`; resolves once it listens. */
export async function spawnServer(env: Record<string, string | undefined>, port: number): Promise<Spawned & { url: string }> {
  const p = spawnScript('server/main.ts', [], { ...env, PORT: String(port) });
  await p.waitFor(/server listening/, 60_000);
  return Object.assign(p, { url: `http://127.0.0.1:${port}` });
}

/** A real `server/worker.ts` process; resolves once its BullMQ workers run. */
export async function spawnWorker(env: Record<string, string | undefined>): Promise<Spawned> {
  const p = spawnScript('server/worker.ts', [], env);
  await p.waitFor(/workers started/, 60_000);
  return p;
}

export async function kill9(p: Spawned): Promise<void> {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return;
  p.child.kill('SIGKILL');
  await p.exited;
}

/** `n` signed-in residents made through the stores, with phones from `phoneBase` on. */
export async function makeVoters(
  ctx: AppContext,
  n: number,
  phoneBase: number,
  profile: Partial<Pick<User, 'name' | 'district' | 'birthYear' | 'gender'>> = { name: 'Voter', district: 'arbat', birthYear: 1985, gender: 'male' },
): Promise<{ user: User; cookie: string; headers: Record<string, string> }[]> {
  const out: { user: User; cookie: string; headers: Record<string, string> }[] = [];
  for (let i = 0; i < n; i += 200) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(200, n - i) }, async (_, j) => {
        const phone = `+79${String(phoneBase + i + j).padStart(9, '0')}`;
        let { user } = await ctx.users.getOrCreateByPhone(phone);
        user = (await ctx.users.updateProfile(user.id, profile))!;
        const session = await ctx.sessions.create(user.id);
        const cookie = `${SESSION_COOKIE}=${session.id}`;
        return { user, cookie, headers: { cookie, origin: FAULT_ORIGIN, 'content-type': 'application/json' } };
      }),
    );
    out.push(...batch);
  }
  return out;
}

export async function makeStaff(ctx: AppContext, phone: string, roles: User['roles']) {
  let { user } = await ctx.users.getOrCreateByPhone(phone);
  user = (await ctx.users.setRoles(user.id, roles))!;
  const session = await ctx.sessions.create(user.id);
  const cookie = `${SESSION_COOKIE}=${session.id}`;
  return { user, cookie, headers: { cookie, origin: FAULT_ORIGIN, 'content-type': 'application/json' } };
}

/** Create and publish a poll through the API as a moderator (the real route, the real validation). */
export async function publishViaApi(url: string, modHeaders: Record<string, string>, overrides: Partial<PollCreate> = {}): Promise<number> {
  const created = await fetch(`${url}/api/polls`, { method: 'POST', headers: modHeaders, body: JSON.stringify(pollBody(overrides)) });
  const body = (await created.json()) as { id: number };
  expect(created.status, JSON.stringify(body)).toBe(201);
  const pub = await fetch(`${url}/api/polls/${body.id}/publish`, { method: 'POST', headers: modHeaders });
  expect(pub.status, await pub.clone().text()).toBe(200);
  await pub.body?.cancel();
  return body.id;
}

export type CastResult = { status: number; receipt?: string; code?: string; retryAfter?: string | null; ms: number; error?: string };

/** One ballot over HTTP; a network failure is status 0. */
export async function castHttp(url: string, headers: Record<string, string>, pollId: number, answers: Record<string, string[]>, timeoutMs = 10_000): Promise<CastResult> {
  const t0 = performance.now();
  try {
    const r = await fetch(`${url}/api/polls/${pollId}/ballots`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ answers }),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await r.text();
    let body: any = null;
    try {
      body = JSON.parse(text);
    } catch {
      /* not JSON */
    }
    return { status: r.status, receipt: body?.receipt ?? body?.error?.details?.receipt, code: body?.error?.code, retryAfter: r.headers.get('retry-after'), ms: performance.now() - t0 };
  } catch (err) {
    return { status: 0, ms: performance.now() - t0, error: (err as Error).message };
  }
}

/** The receipt and ledger voter hash the server derives for (poll, user) — computed here independently. */
export const expectedReceipt = (pollId: number, userId: number) =>
  createHmac('sha256', FAULT_SECRET).update(`receipt:${pollId}:${userId}`).digest().toString('base64url').slice(0, 22);
export const expectedVoterHash = (pollId: number, userId: number) => createHash('sha256').update(expectedReceipt(pollId, userId)).digest('hex');

/** Every ledger entry of a poll over its shards: voter hash -> answers JSON (and how many entries in all). */
export async function readLedger(ctx: AppContext, pollId: number, shards: number): Promise<{ entries: { v: string; a: string; t: string; id: string }[] }> {
  const entries: { v: string; a: string; t: string; id: string }[] = [];
  for (let k = 0; k < shards; k++) {
    const rows = await ctx.redis.xrange(ctx.keys.pollLedger(pollId, k), '-', '+');
    for (const [id, f] of rows) {
      const o: Record<string, string> = {};
      for (let i = 0; i < f.length; i += 2) o[f[i]] = f[i + 1];
      entries.push({ id, v: o.v, a: o.a, t: o.t });
    }
  }
  return { entries };
}

/** DESIGN §4: tallies per question == ledger length == voters marked (the finalise step's check, run directly). */
export async function checkIntegrity(ctx: AppContext, pollId: number, label: string, expectBallots?: number) {
  const r = await ctx.ballots.integrity(pollId);
  console.log(
    `[integrity] ${label}: voters marked ${r.votersMarked}, ledger ${r.ledgerLength}, ballots ${r.ballots}, per question ${JSON.stringify(r.perQuestion)} -> ${r.ok ? 'ok' : `FAIL ${r.problems.join('; ')}`}`,
  );
  expect(r.problems).toEqual([]);
  expect(r.ok).toBe(true);
  expect(r.votersMarked).toBe(r.ballots);
  expect(r.ledgerLength).toBe(r.ballots);
  if (expectBallots !== undefined) expect(r.ballots).toBe(expectBallots);
  return r;
}

/** Run `fn` over `items` with at most `n` in flight. */
export async function pool<T, R>(items: T[], n: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, items.length) }, async () => {
      for (;;) {
        const i = next++;
        if (i >= items.length) return;
        out[i] = await fn(items[i], i);
      }
    }),
  );
  return out;
}

/** A digest of every key in the Redis (the file's own server): key -> sha1 of DUMP. `ignore` names keys allowed to change. */
export async function redisDigest(redis: Redis, ignore: RegExp[] = []): Promise<Map<string, string>> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'COUNT', 1000);
    cursor = next;
    keys.push(...batch);
  } while (cursor !== '0');
  const kept = keys.filter((k) => !ignore.some((re) => re.test(k))).sort();
  const dumps = await Promise.all(kept.map((k) => redis.dumpBuffer(k)));
  const out = new Map<string, string>();
  kept.forEach((k, i) => out.set(k, dumps[i] ? createHash('sha1').update(dumps[i]!).digest('hex') : 'gone'));
  return out;
}

/** Keys whose digest differs between two snapshots (added, removed or changed). */
export function digestDiff(a: Map<string, string>, b: Map<string, string>): string[] {
  const out: string[] = [];
  for (const [k, v] of a) if (b.get(k) !== v) out.push(k);
  for (const k of b.keys()) if (!a.has(k)) out.push(k);
  return out;
}

export const percentile = (xs: number[], p: number) => {
  if (!xs.length) return 0;
  const s = [...xs].sort((x, y) => x - y);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};

/** BullMQ counts of one queue of the fault file's platform (every state a job can sit in). */
export async function queueCounts(ctx: AppContext, name: 'points' | 'lifecycle' | 'notifications') {
  const c = await ctx.queues[name].getJobCounts('active', 'waiting', 'prioritized', 'waiting-children', 'delayed', 'failed', 'completed', 'paused');
  return c as Record<'active' | 'waiting' | 'prioritized' | 'waiting-children' | 'delayed' | 'failed' | 'completed' | 'paused', number>;
}

/**
 * Wait until a queue holds nothing active or waiting (delayed jobs may remain: the reconcile scheduler,
 * a close job due at closesAt). Returns the counts and how long it took; throws after `ms`.
 */
export async function queueSettled(ctx: AppContext, name: 'points' | 'lifecycle' | 'notifications', ms = 30_000) {
  const t0 = performance.now();
  let last = await queueCounts(ctx, name);
  while (last.active + last.waiting + last.prioritized + last['waiting-children'] > 0) {
    if (performance.now() - t0 > ms) throw new Error(`queue ${name} not settled within ${ms} ms: ${JSON.stringify(last)}`);
    await sleep(50);
    last = await queueCounts(ctx, name);
  }
  return { counts: last, ms: performance.now() - t0 };
}

/**
 * DESIGN §4 "exactly one award per ballot": each user holds the marker `vote:<poll>` worth `points`,
 * exactly one ledger entry for that poll, and lifetime `earned` equal to the sum of all their markers.
 */
export async function expectVoteAwardedOnce(ctx: AppContext, pollId: number, userIds: number[], points: number, label: string) {
  const problems: string[] = [];
  for (let i = 0; i < userIds.length; i += 200) {
    await Promise.all(
      userIds.slice(i, i + 200).map(async (uid) => {
        const [awards, earned, ledger] = await Promise.all([
          ctx.redis.hgetall(ctx.keys.pointsAwards(uid)),
          ctx.redis.hget(ctx.keys.pointsAccount(uid), 'earned'),
          ctx.redis.lrange(ctx.keys.pointsLedger(uid), 0, -1),
        ]);
        if (awards[`vote:${pollId}`] !== String(points)) problems.push(`user ${uid}: marker vote:${pollId} = ${awards[`vote:${pollId}`]}`);
        const sum = Object.values(awards).reduce((s, v) => s + Number(v), 0);
        if (Number(earned ?? 0) !== sum) problems.push(`user ${uid}: earned ${earned} != sum of markers ${sum}`);
        const entries = ledger.map((e) => JSON.parse(e) as { reason: string; ref: string | number }).filter((e) => e.reason === 'vote' && String(e.ref) === String(pollId));
        if (entries.length !== 1) problems.push(`user ${uid}: ${entries.length} ledger entries for poll ${pollId}`);
      }),
    );
  }
  expect(problems.slice(0, 10), `${label}: ${problems.length} voters not awarded exactly once`).toEqual([]);
  return userIds.length;
}
