// Experiment: what one Socket.IO watcher costs the server process. Starts the platform, connects N watchers
// (the fan-out phase's load process), and prints the server's RSS and V8 heap before/after; with
// --snapshot it writes heap snapshots (SIGUSR2) before and after into bench/profiles/.
// Usage: node bench/tools/socket-memory.ts [N=5000] [--snapshot]
import { startPlatform } from '../lib/platform.ts';
import { benchContext, publishedPoll, PROBE_O, PROBE_Q } from '../lib/polls.ts';
import { seedVoters } from '../lib/seed.ts';
import { connectionPool, closePool, seedBallots } from '../lib/cast.ts';
import { forkBench, ROOT } from '../lib/proc.ts';
import { rssOf, sleep, progress, loadNow } from '../lib/util.ts';
import { join } from 'node:path';
import { mkdirSync } from 'node:fs';

const n = Number(process.argv.find((a) => /^\d+$/.test(a)) ?? 5000);
const snapshot = process.argv.includes('--snapshot');
const dir = join(ROOT, 'bench/profiles');
mkdirSync(dir, { recursive: true });
const p = await startPlatform({ appendfsync: 'always', tickMs: 200, serverExecArgv: [...(snapshot ? ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${dir}`] : []), ...(process.env.SERVER_NODE_ARGS?.split(' ').filter(Boolean) ?? [])] });
const ctx = benchContext(p);
try {
  const voters = await seedVoters(p.redisUrl, p.prefix, n);
  const pollId = await publishedPoll(ctx, { points: 0 });
  const pool = connectionPool(p.redisUrl, 4);
  await seedBallots(ctx, pool, pollId, voters.map((v) => v.id), 'watchers').finally(() => closePool(pool));
  await sleep(2000);
  if (snapshot) {
    p.server.child.kill('SIGUSR2');
    await sleep(8000);
  }
  const mem = async () => {
    const text = await (await fetch(`${p.url}/metrics`)).text();
    if (process.env.DEBUG_METRICS) progress(text.split("\n").filter((l) => l.includes("heap_size")).join("\n"));
    const get = (re: RegExp) => Number(re.exec(text)?.[1] ?? NaN);
    return {
      rss: rssOf(p.server.pid),
      heapTotal: get(/^nodejs_heap_size_total_bytes(?:\{[^}]*\})? (\S+)/m),
      heapUsed: get(/^nodejs_heap_size_used_bytes(?:\{[^}]*\})? (\S+)/m),
      external: get(/^nodejs_external_memory_bytes(?:\{[^}]*\})? (\S+)/m),
      newSpace: get(/^nodejs_heap_space_size_total_bytes\{space="new"[^}]*\} (\S+)/m),
      oldSpace: get(/^nodejs_heap_space_size_total_bytes\{space="old"[^}]*\} (\S+)/m),
    };
  };
  const show = (a: Record<string, number>, b: Record<string, number>) => Object.keys(a).map((k) => `${k} ${((b[k] - a[k]) / 1024 / n).toFixed(2)}`).join(', ');
  const m0 = await mem();
  const rss0 = m0.rss;
  const per = 10_000;
  const procs = [];
  for (let j = 0; j * per < n; j++) {
    const part = voters.slice(j * per, (j + 1) * per).map((v) => v.cookie);
    const c = forkBench('bench/load/watchers.ts', [], { execArgv: ['--max-old-space-size=4096'] });
    await c.message('ready');
    c.send({ type: 'connect', spec: { mode: 'socketio', url: p.url, pollId, concurrency: 100, probeQuestion: PROBE_Q, probeOption: PROBE_O, cookies: part, localAddresses: [`127.9.${j + 1}.1`, `127.9.${j + 1}.2`] } });
    procs.push(c);
  }
  for (const c of procs) progress(`connected ${JSON.stringify(await c.message('connected', 600_000))}`);
  await sleep(2000);
  const m1 = await mem();
  const rss1 = m1.rss;
  progress(`KB per socket: ${show(m0, m1)}`);
  progress(`load ${loadNow()}: server RSS ${(rss0 / 1048576).toFixed(1)} MB -> ${(rss1 / 1048576).toFixed(1)} MB: ${((rss1 - rss0) / 1024 / n).toFixed(2)} KB per socket`);
  if (snapshot) {
    p.server.child.kill('SIGUSR2');
    await sleep(15000);
    const rss2 = rssOf(p.server.pid);
    progress(`after the snapshot's full GC: ${((rss2 - rss0) / 1024 / n).toFixed(2)} KB per socket`);
  }
  for (const c of procs) c.send({ type: 'close' });
  await sleep(2000);
} finally {
  await ctx.close();
  await p.stop();
}
process.exit(0);
