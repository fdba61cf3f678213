// Experiment: redis-server's syscalls during a max-rate vote run (strace -c): how many fsyncs and writes
// per accepted ballot, i.e. how many ballots share one event-loop iteration's AOF flush.
// Usage: node bench/tools/redis-syscalls.ts [seconds=3] [connections=64]
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../lib/proc.ts';
import { startPlatform } from '../lib/platform.ts';
import { benchContext } from '../lib/polls.ts';
import { seedVoters } from '../lib/seed.ts';
import { voteRun } from '../phases/votes.ts';
import { progress, loadNow } from '../lib/util.ts';

const seconds = Number(process.argv[2] ?? 3);
const connections = Number(process.argv[3] ?? 64);
const p = await startPlatform({ appendfsync: 'always', tickMs: 200 });
const ctx = benchContext(p);
try {
  const voters = await seedVoters(p.redisUrl, p.prefix, 20_000);
  const stats = async () => {
    const text = (await ctx.redis.info('commandstats')) as string;
    const out: Record<string, { calls: number; usec: number }> = {};
    for (const m of text.matchAll(/^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/gm)) out[m[1]] = { calls: Number(m[2]), usec: Number(m[3]) };
    return out;
  };
  const cs0 = await stats();
  await ctx.redis.config('SET', 'slowlog-log-slower-than', '0');
  await ctx.redis.config('SET', 'slowlog-max-len', '200000');
  await ctx.redis.slowlog('RESET');
  const st = spawn(process.argv.includes('--no-strace') ? 'sleep' : 'strace', process.argv.includes('--no-strace') ? ['600'] : ['-c', '-f', '-p', String(p.redis.pid)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let out = '';
  st.stderr.on('data', (d) => (out += d));
  await new Promise((r) => setTimeout(r, 500));
  const run = await voteRun(p, ctx, voters, { connections, duration: seconds, label: 'votes', warmupSec: 1 });
  st.kill('SIGINT');
  await new Promise((r) => st.once('exit', r));
  const cs1 = await stats();
  const log = (await ctx.redis.slowlog('GET', 200000)) as [number, number, number, string[]][];
  await ctx.redis.config('SET', 'slowlog-log-slower-than', '10000');
  const names = new Map<string, string>();
  const dir = join(ROOT, 'server/redis/scripts');
  for (const f of readdirSync(dir)) names.set(createHash('sha1').update(readFileSync(join(dir, f), 'utf8')).digest('hex'), f);
  const bySha = new Map<string, { n: number; us: number }>();
  for (const [, , us, args] of log) {
    const key = args[0]?.toLowerCase() === 'evalsha' ? (names.get(args[1]) ?? args[1]) : args[0]?.toLowerCase();
    const e = bySha.get(key) ?? { n: 0, us: 0 };
    e.n++;
    e.us += us;
    bySha.set(key, e);
  }
  for (const [k, e] of [...bySha].sort((a, b) => b[1].us - a[1].us).slice(0, 12)) progress(`  slowlog ${k.padEnd(26)} ${e.n} calls, ${(e.us / e.n).toFixed(1)} µs a call, ${(e.us / 1000).toFixed(0)} ms in all`);
  const rows = Object.entries(cs1).map(([k, v]) => [k, v.calls - (cs0[k]?.calls ?? 0), v.usec - (cs0[k]?.usec ?? 0)] as const).filter((r) => r[1] > 0).sort((a, b) => b[2] - a[2]);
  for (const [k, calls, usec] of rows.slice(0, 25)) progress(`  ${k.padEnd(22)} ${(calls / (run.http.ok + 700)).toFixed(2).padStart(6)} calls ${(usec / (run.http.ok + 700)).toFixed(1).padStart(7)} µs per ballot (${(usec / calls).toFixed(1)} µs a call)`);
  progress(`load ${loadNow()}; ${run.http.ok} ballots, ${Math.round(run.http.okPerSec)}/s; CPU per ballot ${JSON.stringify(run.cpu.perBallotUs)}`);
  const ballots = run.http.ok + 700; // + the warm-up's (approximate)
  for (const line of out.split('\n')) {
    const m = /^\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(?:\d+\s+)?(\w+)$/.exec(line);
    if (m && ['fdatasync', 'fsync', 'write', 'writev', 'read', 'epoll_wait'].includes(m[2])) progress(`${m[2]}: ${m[1]} calls, ${(Number(m[1]) / ballots).toFixed(3)} per ballot (approx.)`);
  }
  process.stderr.write(out);
} finally {
  await ctx.close();
  await p.stop();
}
process.exit(0);
