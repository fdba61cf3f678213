import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { createHash, createHmac } from 'node:crypto';
import { tallyField } from '../../server/ballots/tally-fields.ts';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, startRedisServer } from '../../server/redis/redis-server.ts';
import { queuePrefix } from '../../server/redis/keys.ts';
import type { AppContext } from '../../server/context.ts';
import { SESSION_COOKIE } from '../../server/auth/auth.middleware.ts';
import { until, type Spawned } from '../helpers/processes.ts';
import { connectSocket, ask } from '../helpers/sockets.ts';
import {
  faultRedis,
  faultContext,
  processRegistry,
  processEnv,
  spawnServer,
  spawnWorker,
  makeStaff,
  publishViaApi,
  castHttp,
  readLedger,
  expectedVoterHash,
  pool,
  sleep,
  FAULT_ORIGIN,
  type FaultRedis,
} from '../helpers/faults.ts';

/**
 * Ballot secrecy (DESIGN §4) against the real platform: residents sign in through the API (codes read from
 * the server's own log, OTP_SENDER=log), fill their profile and vote over HTTP; server and worker run as
 * child processes with LOG_LEVEL=debug and every line they print is kept. Then: the logs, the ballot
 * ledger, the open-data exports, every key and value in Redis, and Redis's own AOF file.
 */

const SHARDS = 2;
const N = 24;
const QUESTION_ORDER = ['q1', 'q2', 'q3'];
const answersOf = (i: number): Record<string, string[]> => ({
  q1: [['o1', 'o2', 'o3'][i % 3]],
  q2: i % 2 ? ['o1', ['o3', 'o4'][(i >> 1) % 2]] : [['o2', 'o3', 'o4', 'o1'][(i >> 1) % 4]],
  ...(i % 5 === 0 ? { q3: [i % 10 === 0 ? 'yes' : 'no'] } : {}),
});
/** The ledger's `a` (answered questions in definition order) and the sorted tally fields of one ballot. */
const ledgerJson = (a: Record<string, string[]>) => JSON.stringify(Object.fromEntries(QUESTION_ORDER.filter((q) => a[q]?.length).map((q) => [q, a[q]])));
const optionFields = (a: Record<string, string[]>) => Object.entries(a).flatMap(([q, os]) => os.map((o) => tallyField.option(q, o))).sort();

type Voter = { i: number; phone: string; name: string; userId: number; sid: string; cookie: string; headers: Record<string, string>; receipt?: string; answers: Record<string, string[]> };

/** RESP commands of an AOF file (skips an RDB preamble: only the `*`-framed part is parsed). */
function parseAof(buf: Buffer): string[][] {
  const cmds: string[][] = [];
  let p = 0;
  const line = () => {
    const e = buf.indexOf('\r\n', p);
    if (e < 0) throw new Error('truncated');
    const s = buf.toString('latin1', p, e);
    p = e + 2;
    return s;
  };
  while (p < buf.length) {
    if (buf[p] !== 0x2a /* * */) throw new Error(`not RESP at ${p}`);
    const n = Number(line().slice(1));
    const args: string[] = [];
    for (let k = 0; k < n; k++) {
      const len = Number(line().slice(1));
      args.push(buf.toString('utf8', p, p + len));
      p += len + 2;
    }
    cmds.push(args);
  }
  return cmds;
}

/**
 * What the AOF reveals: every MULTI/EXEC block (a Lua script's effects) with a SETBIT on a voters bitmap,
 * read as user id (the SETBIT offset: bit*S + shard; older versions also HSET it into the receipts hash)
 * -> the option fields HINCRBY'd in the same block and the answers XADD'ed to the ledger.
 */
function aofLinks(cmds: string[][]): { userId: number; fromOffset: number; options: string[]; ledgerAnswers: string | null }[] {
  const out: { userId: number; fromOffset: number; options: string[]; ledgerAnswers: string | null }[] = [];
  let block: string[][] | null = null;
  for (const c of cmds) {
    const name = c[0].toUpperCase();
    if (name === 'MULTI') block = [];
    else if (name === 'EXEC') {
      const setbit = block?.find((x) => x[0].toUpperCase() === 'SETBIT' && x[1].endsWith(':voters'));
      if (block && setbit) {
        const shard = Number(/\.s(\d+)\}:voters$/.exec(setbit[1])![1]);
        const hset = block.find((x) => x[0].toUpperCase() === 'HSET' && x[1].endsWith(':receipts'));
        const xadd = block.find((x) => x[0].toUpperCase() === 'XADD' && x[1].endsWith(':ledger'));
        const a = xadd ? xadd[xadd.indexOf('a', 3) + 1] : null;
        out.push({
          // older versions also HSET the receipts hash with the user id as field; the offset alone is enough
          userId: hset ? Number(hset[2]) : Number(setbit[2]) * SHARDS + shard,
          fromOffset: Number(setbit[2]) * SHARDS + shard,
          options: block.filter((x) => x[0].toUpperCase() === 'HINCRBY' && x[2].startsWith('o:')).map((x) => x[2]).sort(),
          ledgerAnswers: a,
        });
      }
      block = null;
    } else block?.push(c);
  }
  return out;
}

function aofFiles(dir: string) {
  const d = join(dir, 'appendonlydir');
  return readdirSync(d).map((f) => ({ name: f, path: join(d, f), buf: readFileSync(join(d, f)) }));
}

describe('ballot secrecy: logs, ledger, exports, every Redis key, and the AOF', () => {
  const procs = processRegistry();
  let redis: FaultRedis;
  let ctx: AppContext;
  let server: Spawned & { url: string };
  let worker: Spawned;
  let mod: Awaited<ReturnType<typeof makeStaff>>;
  let pollId: number;
  const prefix = 'f:secrecy:';
  const voters: Voter[] = [];
  let late: Voter;

  async function signIn(i: number): Promise<Voter> {
    const phone = `+7926${String(5550000 + i).padStart(7, '0')}`;
    const h = { 'content-type': 'application/json', origin: FAULT_ORIGIN, 'x-forwarded-for': `203.0.113.${(i % 250) + 1}` };
    const otp = await fetch(`${server.url}/api/auth/otp`, { method: 'POST', headers: h, body: JSON.stringify({ phone }) });
    expect(otp.status).toBe(202);
    const code = (await server.waitFor(new RegExp(`sign-in code for \\${phone}: (\\d{6})`), 10_000))[1];
    const v = await fetch(`${server.url}/api/auth/verify`, { method: 'POST', headers: h, body: JSON.stringify({ phone, code }) });
    expect(v.status).toBe(200);
    const { user } = (await v.json()) as { user: { id: number } };
    const sid = /ac_sid=([^;]+)/.exec(v.headers.getSetCookie()[0])![1];
    const cookie = `${SESSION_COOKIE}=${sid}`;
    const headers = { cookie, origin: FAULT_ORIGIN, 'content-type': 'application/json' };
    const name = `Zoya Secretvoter ${i}`;
    const patch = await fetch(`${server.url}/api/me`, { method: 'PATCH', headers, body: JSON.stringify({ name, district: ['arbat', 'tverskoy', 'presnensky'][i % 3], birthYear: 1950 + i, gender: i % 2 ? 'female' : 'male' }) });
    expect(patch.status).toBe(200);
    return { i, phone, name, userId: user.id, sid, cookie, headers, answers: answersOf(i) };
  }

  beforeAll(async () => {
    redis = await faultRedis('secrecy', 'always');
    ctx = faultContext(redis.url, prefix);
    const env = processEnv(redis.url, prefix, { LOG_LEVEL: 'debug', OTP_SENDER: 'log' });
    server = procs.add(await spawnServer(env, await freePort()));
    worker = procs.add(await spawnWorker(env));
    mod = await makeStaff(ctx, '+79265559999', ['moderator']);
    pollId = await publishViaApi(server.url, mod.headers, { shards: SHARDS, points: 7, title: 'Secret ballot on the embankment' });
    for (let i = 0; i < N + 1; i++) voters.push(await signIn(i));
    late = voters.pop()!;
    // a watcher socket with the session of a voter: socket logs carry userId too
    const s = await connectSocket(server.url, { cookie: voters[0].cookie, origin: FAULT_ORIGIN });
    await ask(s, 'poll:watch', { pollId });
    // the votes: 4 at a time, in a shuffled order
    const order = [...voters].sort((a, b) => ((a.i * 7919) % 31) - ((b.i * 7919) % 31));
    await pool(order, 4, async (v) => {
      const r = await castHttp(server.url, v.headers, pollId, v.answers);
      expect(r.status).toBe(201);
      v.receipt = r.receipt;
    });
    await ask(s, 'poll:watch', { pollId });
    s.close();
    // every vote award done by the worker
    await until(async () => {
      const n = await Promise.all(voters.map((v) => ctx.redis.hget(ctx.keys.pointsAwards(v.userId), `vote:${pollId}`)));
      return n.every((x) => x === '7');
    }, 30_000);
  }, 120_000);
  afterAll(async () => {
    await procs.killAll();
    await ctx?.close().catch(() => {});
    await redis?.destroy();
  });

  const personal = () => voters.flatMap((v) => [v.phone, v.phone.slice(1), v.sid, v.receipt!, v.name, expectedVoterHash(pollId, v.userId)]);

  it('when residents sign in and vote with LOG_LEVEL=debug, then no server or worker log line — nor lines sharing a request, job or socket id — links a voter\'s id, phone or session to a choice', () => {
    const lines = [...server.output().split('\n').map((l) => ({ from: 'server', l })), ...worker.output().split('\n').map((l) => ({ from: 'worker', l }))].filter((x) => x.l.startsWith('{'));
    const ids = new Set(voters.map((v) => v.userId));
    const byCorrelation = new Map<string, { identity: string[]; choice: string[] }>();
    let identityLines = 0;
    let choiceLines = 0;
    const direct: string[] = [];
    for (const { from, l } of lines) {
      const o = JSON.parse(l) as Record<string, unknown>;
      const identity: string[] = [];
      for (const f of ['userId', 'by', 'user', 'id']) if (typeof o[f] === 'number' && ids.has(o[f] as number)) identity.push(`${f}=${o[f]}`);
      for (const v of voters) {
        for (const tok of [v.phone, v.sid, v.receipt!, v.name]) if (l.includes(tok)) identity.push(tok.slice(0, 12));
        if (typeof o.jobId === 'string' && o.jobId.endsWith(`-${v.userId}`)) identity.push(`jobId=${o.jobId}`);
      }
      // ballot content: an answers object, a tally field, the body of a cast
      const choice = [/"answers"/, /\\?"q[123]\\?":\s*\[/, /o:q[123]:/].filter((re) => re.test(l)).map(String);
      if (identity.length) identityLines++;
      if (choice.length) choiceLines++;
      if (identity.length && choice.length) direct.push(`${from}: ${l.slice(0, 300)}`);
      for (const k of ['reqId', 'socketId', 'jobId']) {
        if (typeof o[k] !== 'string') continue;
        const g = byCorrelation.get(`${k}:${o[k]}`) ?? { identity: [], choice: [] };
        g.identity.push(...identity);
        g.choice.push(...choice);
        byCorrelation.set(`${k}:${o[k]}`, g);
      }
    }
    const linked = [...byCorrelation].filter(([, g]) => g.identity.length && g.choice.length).map(([k, g]) => `${k}: ${g.identity.join(',')} + ${g.choice.join(',')}`);
    const ballotRequests = lines.filter((x) => x.l.includes('/ballots')).length;
    console.log(
      `[secrecy: logs] ${lines.length} JSON log lines at debug (server ${lines.filter((x) => x.from === 'server').length}, worker ${lines.filter((x) => x.from === 'worker').length}); ${identityLines} name a voter (user id, phone, session, receipt, name, award job id), ${choiceLines} carry ballot content, ${ballotRequests} mention a ballot request (url only); ${direct.length} lines and ${linked.length} request/job/socket groups hold both`,
    );
    // the capture works: sign-ins were logged with the voter's id
    expect(identityLines).toBeGreaterThanOrEqual(N);
    // the ballot route (server/ballots/ballot.http.ts) writes no per-request log line at all, not even the url
    expect(ballotRequests).toBe(0);
    expect(direct).toEqual([]);
    expect(linked).toEqual([]);
  });

  it('when the ballot ledger is read, then entries hold only {v, a, t}, v is the SHA-256 of the keyed receipt — no user id, phone, receipt or unkeyed hash of them — and only APP_SECRET maps it back', async () => {
    const { entries } = await readLedger(ctx, pollId, SHARDS);
    expect(entries).toHaveLength(N);
    for (let k = 0; k < SHARDS; k++) {
      for (const [, f] of await ctx.redis.xrange(ctx.keys.pollLedger(pollId, k), '-', '+')) expect(f.filter((_, i) => i % 2 === 0)).toEqual(['v', 'a', 't']);
    }
    const vs = new Set(entries.map((e) => e.v));
    expect(vs.size).toBe(N);
    for (const e of entries) expect(e.v).toMatch(/^[0-9a-f]{64}$/);
    // every comparison below is made on the first 32 hex digits too (a cut hash would match there)
    for (const e of entries) vs.add(e.v.slice(0, 32));
    const text = JSON.stringify(entries);
    for (const tok of personal().filter((t) => !vs.has(t))) expect(text).not.toContain(tok);
    // no unkeyed hash (md5/sha1/sha256/sha512, full or cut to 32 hex) of the usual spellings, for every id a small city could have
    const hits: string[] = [];
    const spellings = (id: number) => [`${id}`, `voter:${pollId}:${id}`, `${pollId}:${id}`, `${id}:${pollId}`, `user:${id}`, `${pollId}${id}`];
    const t0 = performance.now();
    for (let id = 1; id <= 100_000; id++) {
      for (const s of spellings(id)) {
        for (const alg of ['md5', 'sha1', 'sha256']) {
          const d = createHash(alg).update(s).digest('hex');
          if (vs.has(d.slice(0, 32))) hits.push(`${alg}(${s})`);
        }
      }
    }
    for (const v of voters) {
      for (const s of [...spellings(v.userId), v.phone, `voter:${pollId}:${v.phone}`]) {
        for (const alg of ['md5', 'sha1', 'sha256', 'sha512']) if (vs.has(createHash(alg).update(s).digest('hex').slice(0, 32))) hits.push(`${alg}(${s})`);
        for (const key of ['', 'dev-only-secret-change-me-in-production', 'secret', String(pollId)]) {
          if (vs.has(createHmac('sha256', key).update(s).digest('hex').slice(0, 32))) hits.push(`hmac[${key}](${s})`);
        }
      }
    }
    const bruteMs = performance.now() - t0;
    // with APP_SECRET every entry maps back to its voter and answers (what a holder of the secret could do)
    const bySecret = voters.filter((v) => entries.find((e) => e.v === expectedVoterHash(pollId, v.userId))?.a === ledgerJson(v.answers)).length;
    console.log(
      `[secrecy: ledger] ${entries.length} entries of fields v,a,t; ${hits.length} of them matched by unkeyed hashes / guessed keys over ids 1..100,000 x ${spellings(1).length} spellings x 3 algorithms (${(bruteMs / 1000).toFixed(1)} s); with APP_SECRET: ${bySecret} of ${N} entries mapped to their voter`,
    );
    expect(hits).toEqual([]);
    expect(bySecret).toBe(N);
  });

  it('when the poll is finalised, then results.json, results.csv, the archive, the results API, the integrity report and the panel hold counts only, and the published ledger only tags and answers — no user id field, phone, name, session or receipt', async () => {
    const close = await fetch(`${server.url}/api/polls/${pollId}/close`, { method: 'POST', headers: mod.headers });
    expect(close.status).toBe(200);
    await until(() => ctx.polls.getFinal(pollId), 60_000, 100);
    const docs: Record<string, string> = {};
    const ledgerPaths = [`/api/polls/${pollId}/ledger.jsonl`, `/api/polls/${pollId}/ledger.csv`];
    for (const path of [`/api/polls/${pollId}/results.json`, `/api/polls/${pollId}/results.csv`, `/api/archive?q=${encodeURIComponent('embankment')}`, `/api/polls/${pollId}/results`, `/api/polls/${pollId}`, `/api/polls/${pollId}/integrity`, `/api/polls/${pollId}/representativeness`, ...ledgerPaths]) {
      const r = await fetch(`${server.url}${path}`);
      expect(r.status, path).toBe(200);
      docs[path] = await r.text();
    }
    expect(docs[`/api/archive?q=embankment`]).toContain('Secret ballot on the embankment');
    expect(JSON.parse(docs[`/api/polls/${pollId}/results.json`]).results.ballots).toBe(N);
    const problems: string[] = [];
    const keysOf = (x: unknown, path = ''): string[] =>
      x && typeof x === 'object' ? Object.entries(x).flatMap(([k, v]) => [`${path}.${k}`, ...keysOf(v, `${path}.${k}`)]) : [];
    // the published ledger's rows carry each ballot's tag (the ledger's `v`) by design: only APP_SECRET maps a tag
    // to a voter; it must hold nothing else of theirs
    const tags = new Set(voters.map((v) => expectedVoterHash(pollId, v.userId)));
    for (const [path, text] of Object.entries(docs)) {
      for (const tok of personal()) if (text.includes(tok) && !(ledgerPaths.includes(path) && tags.has(tok))) problems.push(`${path} contains ${tok.slice(0, 12)}`);
      if (!path.endsWith('.csv')) {
        const parsed = path.endsWith('.jsonl') ? text.trimEnd().split('\n').map((l) => JSON.parse(l)) : JSON.parse(text);
        for (const k of keysOf(parsed)) if (/user|phone|voter(?!s)|receipt|session|sid\b|name$/i.test(k.split('.').pop()!)) problems.push(`${path} has field ${k}`);
      }
    }
    expect(docs[ledgerPaths[0]].trimEnd().split('\n')).toHaveLength(N);
    const csvHeader = docs[`/api/polls/${pollId}/results.csv`].split('\r\n')[0];
    console.log(`[secrecy: exports] ${Object.keys(docs).length} documents (${Object.values(docs).reduce((s, d) => s + d.length, 0)} bytes) checked for ${personal().length} personal tokens and personal field names: ${problems.length} problems; CSV header ${csvHeader}`);
    expect(csvHeader).toBe('poll_id,row_type,question_id,question_text,option_id,option_text,group,count');
    expect(problems).toEqual([]);
  });

  it('when every Redis key and value is scanned, then no key holds both a voter\'s identity and a choice, and the voter bitmap holds exactly one bit per voter (THAT they voted, not how)', async () => {
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await ctx.redis.scan(cursor, 'COUNT', 1000);
      cursor = next;
      keys.push(...batch);
    } while (cursor !== '0');
    const content = async (k: string): Promise<string> => {
      const t = await ctx.redis.type(k);
      // a key can expire between SCAN and the read (locks, rate-limit windows): nothing left to hold a link
      if (t === 'string') return (await ctx.redis.getBuffer(k))?.toString('latin1') ?? '';
      if (t === 'hash') return JSON.stringify(await ctx.redis.hgetall(k));
      if (t === 'list') return JSON.stringify(await ctx.redis.lrange(k, 0, -1));
      if (t === 'set') return JSON.stringify(await ctx.redis.smembers(k));
      if (t === 'zset') return JSON.stringify(await ctx.redis.zrange(k, 0, -1, 'WITHSCORES'));
      if (t === 'stream') return JSON.stringify(await ctx.redis.xrange(k, '-', '+'));
      return '';
    };
    const answerJsons = new Set(voters.map((v) => ledgerJson(v.answers)));
    const identityKeys = new Map<string, string[]>();
    const choiceKeys = new Map<string, string>();
    const both: string[] = [];
    for (const k of keys.sort()) {
      const c = await content(k);
      const who: string[] = [];
      for (const v of voters) {
        if (k.includes(`{u:${v.userId}}`) || k.endsWith(`-${pollId}-${v.userId}`)) who.push('key names the user');
        if ([v.phone, v.sid, v.receipt!, v.name].some((tok) => c.includes(tok))) who.push('phone/session/receipt/name');
        if (new RegExp(`"userId\\\\?":${v.userId}[,}]`).test(c)) who.push('userId field');
      }
      if (/:receipts$/.test(k)) who.push('user ids as fields');
      if (/:(voters|awarded)$/.test(k)) who.push('user ids as bit offsets');
      const ballot = [...answerJsons].some((a) => c.includes(a) || c.includes(JSON.stringify(a).slice(1, -1))) ? 'answers' : /"o:q\d+:/.test(c) ? 'option tallies (aggregate)' : null;
      if (who.length) identityKeys.set(k, [...new Set(who)]);
      if (ballot) choiceKeys.set(k, ballot);
      if (who.length && ballot) both.push(`${k}: ${[...new Set(who)].join(', ')} + ${ballot}`);
    }
    const kinds = (m: Map<string, unknown>) => [...new Set([...m.keys()].map((k) => k.slice(prefix.length).replace(/\{u:\d+\}/, '{u:N}').replace(/award-(vote|profile)-[\w-]+/, 'award-$1-…').replace(/sess:[\w-]+/, 'sess:…').replace(/\{p:\d+(\.s\d+)?\}/, '{p:…}')))];
    console.log(`[secrecy: redis] ${keys.length} keys scanned; ${identityKeys.size} name a voter (${kinds(identityKeys).join(' ')}); ${choiceKeys.size} hold ballot content (${[...choiceKeys].map(([k, why]) => `${k.slice(prefix.length)}: ${why}`).join('; ')}); ${both.length} hold both`);
    expect(identityKeys.size).toBeGreaterThan(N); // the scan sees voters at all
    expect([...choiceKeys.values()].filter((x) => x === 'answers')).toHaveLength(SHARDS); // exactly the ledger streams
    expect(both).toEqual([]);
    // the voter bitmap: exactly one set bit per voter, at floor(id / S) of shard id mod S — nothing else in it
    for (let k = 0; k < SHARDS; k++) {
      const buf = (await ctx.redis.getBuffer(ctx.keys.pollVoters(pollId, k)))!;
      const set: number[] = [];
      for (let i = 0; i < buf.length * 8; i++) if (buf[i >> 3] & (0x80 >> (i & 7))) set.push(i);
      const expected = voters.filter((v) => v.userId % SHARDS === k).map((v) => Math.floor(v.userId / SHARDS)).sort((a, b) => a - b);
      expect(set).toEqual(expected);
      expect(buf.length).toBe(Math.ceil((Math.max(...expected) + 1) / 8));
    }
  });

  it('when every Redis key is read in its stored order next to the ballot ledger, then no key lists a poll\'s voters in voting order', async () => {
    // the ledger is in voting order (per shard); a key that names voters in that same order re-identifies
    // every ballot by position alone, without APP_SECRET (a hash of <= 128 fields is a listpack: insertion order)
    const ledger = new Map<number, string[]>();
    for (let k = 0; k < SHARDS; k++) ledger.set(k, (await ctx.redis.xrange(ctx.keys.pollLedger(pollId, k), '-', '+')).map(([, f]) => f[f.indexOf('v') + 1]));
    const zip = (uids: number[]) => {
      let right = 0;
      for (let k = 0; k < SHARDS; k++) {
        const mine = uids.filter((u) => u % SHARDS === k);
        mine.forEach((u, i) => (right += ledger.get(k)![i] === expectedVoterHash(pollId, u) ? 1 : 0));
      }
      return right;
    };
    const keys = await ctx.redis.keys('*'); // the platform's keys and BullMQ's ({<prefix>bull}:…)
    const ids = new Set(voters.map((v) => v.userId));
    const bull = queuePrefix(prefix);
    const report: string[] = [];
    const exact: string[] = [];
    const queueExact: string[] = [];
    for (const k of keys.sort()) {
      const t = await ctx.redis.type(k);
      let seq: number[] = [];
      // per-voter job ids (award-vote-<poll>-<user> of the per-vote award jobs there were; award-profile-…) and userId fields
      const pick = (text: string) => [...text.matchAll(new RegExp(`award-(?:vote-${pollId}|profile-profile)-(\\d+)|"userId\\\\?":(\\d+)`, 'g'))].map((m) => Number(m[1] ?? m[2]));
      if (t === 'hash') {
        // raw HGETALL: the stored order (an object would sort integer-like fields)
        const flat = (await ctx.redis.call('HGETALL', k)) as string[];
        seq = /:receipts$/.test(k) ? flat.filter((_, i) => i % 2 === 0).map(Number) : pick(JSON.stringify(flat));
      } else if (t === 'list') seq = pick(JSON.stringify(await ctx.redis.lrange(k, 0, -1)));
      else if (t === 'zset') seq = pick(JSON.stringify(await ctx.redis.zrange(k, 0, -1)));
      else if (t === 'stream') seq = pick(JSON.stringify(await ctx.redis.xrange(k, '-', '+')));
      else if (t === 'set') seq = (await ctx.redis.smembers(k)).map(Number); // an award pending set, if one is left
      seq = [...new Set(seq.filter((u) => ids.has(u)))];
      if (seq.length < 2) continue;
      const right = zip(seq);
      report.push(`${k} (${t}, ${seq.length} voters): ${right} of them`);
      if (seq.length >= 3 && right === seq.length) (k.startsWith(bull) ? queueExact : exact).push(k);
    }
    // and by time: each voter's points award time (a per-user, long-lived record). An award batch gives all
    // its voters the batch step's time, so sorting by it orders the batches, not the voters within one:
    // ties are broken by user id, and chance is about one right guess per (shard, batch) group
    const awardTimes = await Promise.all(
      voters.map(async (v) => [v.userId, (await ctx.redis.lrange(ctx.keys.pointsLedger(v.userId), 0, -1)).map((x) => JSON.parse(x)).find((x) => x.reason === 'vote' && String(x.ref) === String(pollId))?.at as number] as const),
    );
    const awardAt = zip([...awardTimes].sort((a, b) => a[1] - b[1] || a[0] - b[0]).map(([u]) => u));
    const groups = new Set(awardTimes.map(([u, at]) => `${u % SHARDS}:${at}`)).size;
    // the queue's records of the vote awards: batch jobs ({pollId, shard, batch}), none naming a voter
    const batchJobs = (await ctx.queues.points.getJobs(['completed', 'failed', 'active', 'waiting', 'delayed'], 0, -1)).filter((j) => j?.name === 'award-batch' && j.data.pollId === pollId);
    const jobsNamingVoters = batchJobs.filter((j) => /userId|\d{2,}/.test(JSON.stringify(j.data).replace(/"(pollId|shard|batch)":\d+/g, ''))).length;
    const queueVoterKeys = report.filter((r) => r.startsWith(bull) && !r.includes('award-profile')).length;
    console.log(
      `[secrecy: order and time] ballots re-identified without APP_SECRET by zipping a key's voter order with the ledger's order (chance ~1-2 of ${N}; votes cast 4 at a time): ${report.join('; ') || 'no key names 2+ voters'}; by sorting voters by their points-ledger award "at": ${awardAt}/${N} (${groups} shard×batch groups share an award time: chance ~${groups}); vote award records in the queue: ${batchJobs.length} batch jobs, ${jobsNamingVoters} naming a voter, ${queueVoterKeys} queue keys listing voters`,
    );
    // the platform's own keys (poll, user): none in voting order (the receipts hash was, until it stopped being written)
    expect(exact, 'keys listing the voters in exactly the voting order').toEqual([]);
    // the queue: no record of a vote award names a voter (there is no per-voter job), so none orders them
    expect(batchJobs.length).toBeGreaterThan(0);
    expect(jobsNamingVoters).toBe(0);
    expect(queueExact, 'queue keys listing the voters in exactly the voting order').toEqual([]);
    // award times: one per batch step, never one per voter; within a batch they give nothing beyond chance
    expect(groups).toBeLessThan(N);
    expect(awardAt).toBeLessThanOrEqual(groups + 3);
  });

  it('when the AOF (appendfsync always) is read, then each ballot\'s MULTI/EXEC block links the user id (the SETBIT offset on the voter bitmap) to the options it incremented and the answers it appended — for every voter', async () => {
    const files = aofFiles(redis.dir);
    const incr = files.filter((f) => f.name.endsWith('.aof'));
    const cmds = incr.flatMap((f) => parseAof(f.buf));
    const links = aofLinks(cmds);
    const right = voters.filter((v) => {
      const l = links.find((x) => x.userId === v.userId);
      return l && l.fromOffset === v.userId && JSON.stringify(l.options) === JSON.stringify(optionFields(v.answers)) && l.ledgerAnswers === ledgerJson(v.answers);
    });
    const sample = links[0];
    console.log(
      `[secrecy: AOF] ${files.map((f) => `${f.name} ${f.buf.length} B`).join(', ')}: ${cmds.length} commands, ${links.length} ballot blocks; ${right.length} of ${N} voters linked to exactly their options and answers (user id = SETBIT offset x shards + shard). Example block: user ${sample.userId} -> ${sample.options.join(' ')} / ${sample.ledgerAnswers}`,
    );
    expect(links).toHaveLength(N);
    expect(right).toHaveLength(N);
  });

  it('when BGREWRITEAOF has run, then no AOF file holds a ballot block of the earlier votes (a ballot after the rewrite is linked again until the next rewrite)', async () => {
    const before = aofFiles(redis.dir).map((f) => f.name);
    await ctx.redis.bgrewriteaof();
    await until(async () => {
      const info = await ctx.redis.info('persistence');
      return /aof_rewrite_in_progress:0/.test(info) && /aof_rewrite_scheduled:0/.test(info) && /aof_last_bgrewrite_status:ok/.test(info) && aofFiles(redis.dir).some((f) => !before.includes(f.name));
    }, 30_000, 100);
    // the old incremental files become history and are deleted in the background
    const after = await until(async () => {
      const fs = aofFiles(redis.dir);
      return fs.every((f) => !before.includes(f.name) || f.name.endsWith('.manifest')) ? fs : null;
    }, 10_000, 100);
    const cmds = after.filter((f) => f.name.endsWith('.aof')).flatMap((f) => parseAof(f.buf));
    const base = after.find((f) => f.name.includes('.base.'))!;
    const linksAfterRewrite = aofLinks(cmds).length;
    const baseHasMulti = base.buf.includes('MULTI');
    // the data itself survived the rewrite (the base holds the voters, receipts, ledger)
    expect(await ctx.redis.xlen(ctx.keys.pollLedger(pollId, 0))).toBeGreaterThan(0);
    expect(await ctx.ballots.hasVoted(pollId, voters[0].userId)).toBe(true);

    // a vote after the rewrite is in the new incremental file, linked again
    const poll2 = await publishViaApi(server.url, mod.headers, { shards: SHARDS, points: 0 });
    expect((await castHttp(server.url, late.headers, poll2, late.answers)).status).toBe(201);
    await sleep(50);
    const now = aofLinks(aofFiles(redis.dir).filter((f) => f.name.endsWith('.aof')).flatMap((f) => parseAof(f.buf)));
    const mode = (p: string) => (statSync(p).mode & 0o777).toString(8);
    console.log(
      `[secrecy: AOF rewrite] before ${before.join(', ')}; after BGREWRITEAOF ${after.map((f) => `${f.name} ${f.buf.length} B`).join(', ')}: ${linksAfterRewrite} ballot blocks in the incremental file, MULTI in the RDB base: ${baseHasMulti}; one vote later: ${now.length} block(s), user ${now[0]?.userId} -> ${now[0]?.options.join(' ')}. Modes: data dir ${mode(redis.dir)}, appendonlydir ${mode(join(redis.dir, 'appendonlydir'))}, files ${[...new Set(after.map((f) => mode(f.path)))].join('/')}`,
    );
    expect(linksAfterRewrite).toBe(0);
    expect(baseHasMulti).toBe(false);
    expect(now).toHaveLength(1);
    expect(now[0]).toMatchObject({ userId: late.userId, fromOffset: late.userId, options: optionFields(late.answers) });
  });
  it('when the private redis-server starts, then its data dir is private (0700), also when it existed world-readable — the AOF there links voters to choices', async () => {
    const root = mkdtempSync(join(tmpdir(), 'ac-secrecy-dir-'));
    try {
      const fresh = join(root, 'data', 'redis');
      const old = join(root, 'old');
      mkdirSync(old);
      chmodSync(old, 0o755);
      const modes: string[] = [];
      for (const dir of [fresh, old]) {
        const h = await startRedisServer({ dir, port: await freePort() });
        try {
          modes.push((statSync(dir).mode & 0o777).toString(8));
        } finally {
          await h.stop('SIGKILL');
        }
      }
      console.log(`[secrecy: data dir] modes after start: new dir ${modes[0]}, pre-existing 755 dir ${modes[1]}`);
      expect(modes).toEqual(['700', '700']);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
