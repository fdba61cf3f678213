import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import type { AppContext } from '../../server/context.ts';
import { ROOT } from '../lib/proc.ts';
import type { Platform } from '../lib/platform.ts';
import { publishedPoll } from '../lib/polls.ts';
import { progress } from '../lib/util.ts';

export type RedisBenchResult = { available: boolean; rps: number; p50ms: number; p99ms: number; requests: number; connections: number; command: string; note?: string };

/**
 * The project's own cast-ballot Lua script under redis-benchmark: SCRIPT LOAD, then EVALSHA with keys and
 * arguments shaped like a real accepted vote (a published poll's shard keys, a typical ballot's tally
 * fields). redis-benchmark's __rand_int__ is zero-padded to 12 digits, which SETBIT rejects as an offset,
 * so each voter is made distinct through the voters-bitmap key (`…:voters:__rand_int__`, bit 0) and the
 * receipt field: the script runs its full accept path (GETBIT 0 → checks → SETBIT, HSET, HINCRBYs, XADD).
 */
export async function redisBenchmarkCast(p: Platform, ctx: AppContext, o: { requests: number; connections: number }): Promise<RedisBenchResult> {
  if (spawnSync('redis-benchmark', ['--version']).error) {
    progress('redis-benchmark not found (apt-get install redis-tools): skipped');
    return { available: false, rps: NaN, p50ms: NaN, p99ms: NaN, requests: 0, connections: o.connections, command: '', note: 'redis-benchmark not installed' };
  }
  const pollId = await publishedPoll(ctx);
  const k = ctx.keys;
  const admin = new Redis(p.redisUrl);
  const sha = (await admin.script('LOAD', readFileSync(join(ROOT, 'server/redis/scripts/cast-ballot-8.lua'), 'utf8'))) as string;
  admin.disconnect();
  const args = [
    'EVALSHA', sha, '8',
    k.pollShardState(pollId, 0),
    `${k.pollVoters(pollId, 0)}:__rand_int__`,
    k.pollReceipts(pollId, 0),
    k.pollTally(pollId, 0),
    k.pollBreakdown(pollId, 0),
    k.pollLedger(pollId, 0),
    k.pollAwardPending(pollId, 0),
    k.pollCounts(pollId, 0),
    '0', 'u__rand_int__', 'AAAAAAAAAAAAAAAAAAAAAA', '0123456789abcdef0123456789abcdef',
    '{"q1":["o2"],"q2":["o1","o3"]}', 'd:arbat', 'a:35-44', '1', 'cao|35-44|female',
    'a:q1', 'o:q1:o2', 'a:q2', 'o:q2:o1', 'o:q2:o3',
  ];
  const cmd = ['redis-benchmark', '-h', '127.0.0.1', '-p', String(p.redis.port), '-c', String(o.connections), '-n', String(o.requests), '-r', '1000000000', '--csv', ...args];
  progress(`redis-benchmark: cast-ballot EVALSHA, ${o.connections} connections, ${o.requests} requests (AOF ${p.appendfsync})`);
  const out = await new Promise<string>((res, rej) => {
    const child = spawn(cmd[0], cmd.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    let s = '';
    child.stdout.on('data', (d) => (s += d));
    child.stderr.on('data', (d) => (s += d));
    const t = setTimeout(() => child.kill('SIGKILL'), 180_000);
    child.on('exit', () => {
      clearTimeout(t);
      res(s);
    });
    child.on('error', rej);
  });
  // "test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"
  // (the test name holds the arguments, quotes and all: read the seven numbers from the end of the line)
  const line = out.split('\n').find((l) => /^"EVALSHA/.test(l));
  const m = line ? /"([\d.]+)","([\d.]+)","([\d.]+)","([\d.]+)","([\d.]+)","([\d.]+)","([\d.]+)"\s*$/.exec(line) : null;
  const cols = m ? m.slice(1).map(Number) : [];
  const r = { available: true, rps: cols[0], p50ms: cols[3], p99ms: cols[5], requests: o.requests, connections: o.connections, command: cmd.join(' ').replace(sha, '<sha>') };
  if (!line) progress(`redis-benchmark: unexpected output: ${out.slice(-500)}`);
  const integ = await ctx.ballots.tallyVersions([pollId]);
  progress(`redis-benchmark: ${Math.round(r.rps)} cast scripts/s, p50 ${r.p50ms} ms, p99 ${r.p99ms} ms (tally version now ${integ[0]})`);
  return r;
}
