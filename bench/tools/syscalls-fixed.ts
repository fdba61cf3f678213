// Experiment: syscalls of the server and of redis-server per ballot at a FIXED vote rate (strace -c),
// to compare write batching variants without the max-rate run's noise.
// Usage: node bench/tools/syscalls-fixed.ts [rate=1500] [seconds=4]
import { spawn } from 'node:child_process';
import { startPlatform } from '../lib/platform.ts';
import { benchContext, ballotBodies, publishedPoll } from '../lib/polls.ts';
import { seedVoters } from '../lib/seed.ts';
import { runHttpLoad } from '../lib/load.ts';
import { cpuMeter, progress, loadNow } from '../lib/util.ts';

const rate = Number(process.argv[2] ?? 1500);
const seconds = Number(process.argv[3] ?? 4);
const p = await startPlatform({ appendfsync: 'always', tickMs: 200 });
const ctx = benchContext(p);
const trace = (pid: number) => {
  const st = spawn('strace', ['-c', '-f', '-p', String(pid)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let out = '';
  st.stderr.on('data', (d) => (out += d));
  return { stop: async () => (st.kill('SIGINT'), await new Promise((r) => st.once('exit', r)), out) };
};
try {
  const voters = await seedVoters(p.redisUrl, p.prefix, Math.ceil(rate * (seconds + 3)));
  const pollId = await publishedPoll(ctx);
  const path = `/api/polls/${pollId}/ballots`;
  await runHttpLoad({ url: p.url, path, connections: 64, durationSec: 1, overallRate: rate, origin: p.origin, voters: voters.slice(0, rate), bodies: ballotBodies(), label: 'warm-up' });
  const ts = [trace(p.server.pid), trace(p.redis.pid)];
  await new Promise((r) => setTimeout(r, 300));
  const meter = cpuMeter({ server: p.server.pid, worker: p.worker.pid, redis: p.redis.pid });
  const r = await runHttpLoad({ url: p.url, path, connections: 64, durationSec: seconds, overallRate: rate, origin: p.origin, voters: voters.slice(rate), bodies: ballotBodies(), label: 'fixed rate' });
  const cpu = meter.stop();
  const [so, ro] = await Promise.all(ts.map((t) => t.stop()));
  progress(`load ${loadNow()}; ${r.ok} ballots at ${Math.round(r.okPerSec)}/s, p50 ${r.latencyMs.p50} ms; CPU µs/ballot (under strace) ${JSON.stringify(Object.fromEntries(Object.entries(cpu.cpuMs).map(([k, v]) => [k, Math.round((v * 1000) / r.ok)])))}`);
  for (const [who, out] of [['server', so], ['redis', ro]] as const) {
    const calls: string[] = [];
    for (const line of out.split('\n')) {
      const m = /^\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(?:\d+\s+)?(\w+)$/.exec(line);
      if (m && Number(m[1]) / r.ok > 0.05) calls.push(`${m[2]} ${(Number(m[1]) / r.ok).toFixed(2)}`);
    }
    progress(`${who} syscalls per ballot: ${calls.join(', ')}`);
  }
} finally {
  await ctx.close();
  await p.stop();
}
process.exit(0);
