// `npm run bench`: starts the real platform (private redis-server, server/main.ts, server/worker.ts) and
// measures vote ingestion, live fan-out, worker lag, finalisation and the cost of AOF fsync, against
// baselines run in the same session with the same tools; Our City's intake and queries (phase city, its own
// PostgreSQL). Progress on stderr, the table on stdout, figures in bench/results.json.
// Flags: --quick, --only=votes,worker,memory,processes,cluster,fanout,finalise,durability,redis,city.
import { writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from './lib/args.ts';
import { startPlatform, type Platform } from './lib/platform.ts';
import { benchContext } from './lib/polls.ts';
import { seedVoters, type Voter } from './lib/seed.ts';
import { runHttpLoad, startListening } from './lib/load.ts';
import { ballotBodies } from './lib/polls.ts';
import { ROOT } from './lib/proc.ts';
import { machineInfo, formatTable, fmt, type Row } from './lib/report.ts';
import { cpuMeter, loadNow, openFilesLimit, progress, round } from './lib/util.ts';
import { voteRun, callsPerVote, watchPointsCompletions, workerLag, type VoteRun } from './phases/votes.ts';
import { redisBenchmarkCast, type RedisBenchResult } from './phases/redis-benchmark.ts';
import { fanoutPlatform, fanoutRows, fanoutWs, type FanoutResult } from './phases/fanout.ts';
import { finalisePhase, type FinaliseResult } from './phases/finalise.ts';
import { memoryPhase } from './phases/memory.ts';
import { capacityRows, ceilingRow } from './phases/capacity.ts';
import { clusterCastPhase } from './phases/cluster.ts';
import type { HttpRunResult } from './load/http-votes.ts';
import { cityPhase, cityRows } from './phases/city.ts';

const opts = parseArgs(process.argv.slice(2));
const started = new Date();
const machine = machineInfo();
const has = (p: string) => opts.only.has(p as never);
progress(`bench ${opts.quick ? '(quick) ' : ''}phases: ${[...opts.only].join(', ')}; ${machine.cpus} CPUs, load ${machine.loadavgAtStart}`);

const rows: Row[] = [];
const results: Record<string, unknown> = {
  startedAt: started.toISOString(),
  machine,
  options: { ...opts, only: [...opts.only] },
};
const hardDeadline = setTimeout(() => {
  progress('bench: 20-minute hard limit reached, exiting');
  process.exit(2);
}, 20 * 60_000);
hardDeadline.unref();

const cleanups: (() => Promise<void>)[] = [];
async function cleanup() {
  for (const c of cleanups.splice(0).reverse()) await c().catch((err) => progress(`cleanup: ${(err as Error).message}`));
}
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    progress(`${sig}: stopping`);
    void cleanup().then(() => process.exit(130));
  });
}

function finish() {
  results.finishedAt = new Date().toISOString();
  results.loadavgAtEnd = loadNow();
  results.durationSeconds = round((Date.now() - started.getTime()) / 1000);
  results.table = rows;
  const jsonPath = resolve(ROOT, opts.json); // relative to the checkout, or absolute
  mkdirSync(dirname(jsonPath), { recursive: true });
  writeFileSync(jsonPath, JSON.stringify(results, null, 2) + '\n');
  process.stdout.write(`\nActive Citizen bench — ${started.toISOString()} — ${machine.cpus}× ${machine.cpuModel}, ${machine.node}, ${machine.redis.split(' ').slice(0, 3).join(' ')}\n`);
  process.stdout.write(`machine load (1/5/15 min): ${machine.loadavgAtStart.split(' ').slice(0, 3).join(' ')} at start, ${results.loadavgAtEnd} at end — ratios are taken within this run\n`);
  process.stdout.write(`load: ${opts.connections} keep-alive connections, ${opts.duration} s per vote run${opts.quick ? ' (QUICK run: small N, short)' : ''}\n\n`);
  process.stdout.write(formatTable(rows) + '\n');
  progress(`wrote ${opts.json} (${results.durationSeconds} s)`);
}

let main: Platform | null = null;
try {
  // ---------------- 6: Our City (its own PostgreSQL, redis-server and server) ----------------
  if (has('city')) {
    const c = await cityPhase({ quick: opts.quick, connections: opts.cityConnections, seconds: opts.duration, reports: opts.cityReports }, (fn) => cleanups.push(fn));
    results.city = c;
    rows.push(...cityRows(c, opts.cityConnections));
    if (opts.only.size === 1) {
      finish();
      process.exit(0);
    }
  }

  const needVotes = has('votes') || has('worker') || has('durability') || has('memory') || has('processes');
  const fanoutNs = opts.watchers.map((n) => Math.min(n, openFilesLimit() - 400));
  const votersNeeded = opts.voters;

  // ---------------- baseline: bare node:http, same load tool, same connections, same requests ----------------
  let hello: (HttpRunResult & { serverCpuMs: number; serverCpuPerReqUs: number; load: string }) | null = null;
  main = await startPlatform({ appendfsync: 'always', tickMs: opts.tickMs, workerConcurrency: opts.workerConcurrency, profileDir: opts.profile ? join(ROOT, 'bench/profiles') : undefined });
  cleanups.push(() => main!.stop());
  const ctx = benchContext(main);
  cleanups.push(() => ctx.close());
  const t0 = Date.now();
  const voters: Voter[] = await seedVoters(main.redisUrl, main.prefix, votersNeeded);
  progress(`seeded ${voters.length} voters (users + sessions through the stores) in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

  if (needVotes) {
    const { child, port } = await startListening('bench/baseline/hello-http.ts');
    const load = loadNow();
    const meter = cpuMeter({ server: child.pid });
    const r = await runHttpLoad({ url: `http://127.0.0.1:${port}`, path: '/api/polls/1/ballots', connections: opts.connections, durationSec: opts.duration, origin: main.origin, voters, bodies: ballotBodies(), cycle: true, label: 'baseline node:http' });
    const serverCpuMs = meter.stop().cpuMs.server;
    await child.stop();
    hello = { ...r, serverCpuMs, serverCpuPerReqUs: round((serverCpuMs * 1000) / Math.max(1, r.ok), 0), load };
    progress(`baseline node:http: CPU per request ${hello.serverCpuPerReqUs} µs (server), ${round((r.loadCpuMs * 1000) / Math.max(1, r.ok), 0)} µs (load process); load ${load}`);
    results.baselineHttp = hello;
  }

  // ---------------- 1 + 3: vote ingestion at max rate (AOF always), worker lag of the same votes ----------------
  let always: VoteRun | null = null;
  if (needVotes) {
    const watch = has('worker') ? watchPointsCompletions(main) : null;
    always = await voteRun(main, ctx, voters, { connections: opts.connections, duration: opts.duration, label: 'votes (AOF always)', recordAccepts: !!watch, warmupSec: opts.quick ? 1 : 3 });
    const { accepts, ...http } = always.http;
    results.votes = { appendfsync: 'always', pollId: always.pollId, http, cpu: always.cpu, load: always.load, commandstatsAllClients: always.commandstats };
    const ratio = always.http.okPerSec / (hello?.okPerSec ?? NaN);
    const cpuRatio = (hello?.serverCpuPerReqUs ?? NaN) / always.cpu.perBallotUs.server;
    rows.push(
      { phase: '1 votes', metric: 'baseline node:http hello (req/s, p50/p99 ms)', value: `${fmt(hello!.okPerSec)}  ${hello!.latencyMs.p50}/${hello!.latencyMs.p99}` },
      { phase: '1 votes', metric: 'ballots accepted/s (AOF always)', value: fmt(always.http.okPerSec), note: always.http.votersExhausted ? 'ran out of seeded voters' : undefined },
      { phase: '1 votes', metric: 'ballot latency p50 / p99 (ms)', value: `${always.http.latencyMs.p50} / ${always.http.latencyMs.p99}` },
      { phase: '1 votes', metric: 'ratio to bare node:http', value: fmt(ratio, 2), target: '>= 0.50', pass: ratio >= 0.5, note: `machine load (1/5/15 min) ${hello!.load} at the baseline, ${always.load.start} → ${always.load.end} over the vote run` },
      {
        phase: '1 votes',
        metric: 'server CPU per request (µs): ballot | node:http hello',
        value: `${fmt(always.cpu.perBallotUs.server)}  |  ${fmt(hello!.serverCpuPerReqUs)}  (ratio ${fmt(cpuRatio, 2)})`,
        note: `CPU per accepted ballot (µs): server ${fmt(always.cpu.perBallotUs.server)}, worker ${fmt(always.cpu.perBallotUs.worker)}, redis-server ${fmt(always.cpu.perBallotUs.redis)}, load process ${fmt(always.cpu.perBallotUs.load)}; 2 cores shared by all of them`,
      },
    );
    if (watch && accepts) {
      const lag = await workerLag(ctx, watch, accepts, always.pollId, opts.quick ? 30_000 : 120_000);
      results.workerLag = lag;
      rows.push({
        phase: '3 worker',
        metric: 'points credited after the 201: p50 / p99 (ms)',
        value: `${fmt(lag.lagMs.p50)} / ${fmt(lag.lagMs.p99)}`,
        target: 'p99 <= 1000',
        pass: lag.missing === 0 && lag.lagMs.p99 <= 1000,
        note: `${lag.credited}/${lag.votes} awards seen in ${fmt(lag.steps)} batch steps; queue drained ${lag.drainSeconds.toFixed(1)} s after the max-rate run${lag.missing ? `; ${lag.missing} not credited within the wait` : ''}`,
      });
    }
    const total = always.cpu.perBallotUs.server + always.cpu.perBallotUs.worker + always.cpu.perBallotUs.redis;
    rows.push({
      phase: '1 votes',
      metric: 'CPU per accepted ballot (µs): server + worker + redis-server',
      value: `${fmt(total)}  (${fmt(always.cpu.perBallotUs.server)} + ${fmt(always.cpu.perBallotUs.worker)} + ${fmt(always.cpu.perBallotUs.redis)})`,
      target: '<= 250',
      pass: total <= 250,
    });
    const helloLoadUs = hello ? round((hello.loadCpuMs * 1000) / Math.max(1, hello.ok), 0) : NaN;
    if (hello) rows.push(ceilingRow(machine.cpus, { ...always.cpu, okPerSec: always.http.okPerSec }, { serverCpuPerReqUs: hello.serverCpuPerReqUs, loadCpuPerReqUs: helloLoadUs, okPerSec: hello.okPerSec }, results));
    if (has('memory')) {
      const m = await memoryPhase(ctx, voters, always.pollId);
      results.memory = m;
      const parts = (o: Record<string, number>) => Object.entries(o).filter(([k, v]) => k !== 'total' && v > 0).map(([k, v]) => `${k} ${fmt(v)}`).join(', ');
      rows.push(
        { phase: '10 memory', metric: 'Redis bytes per registered user', value: fmt(m.perUser.total), note: `MEMORY USAGE over ${m.sampledUsers} seeded voters: ${parts(m.perUser)}` },
        { phase: '10 memory', metric: 'Redis bytes per ballot', value: fmt(m.perBallot.total, 1), note: `${m.ballots} ballots of one poll: ${parts(m.perBallot)}; plus 2 bitmaps of 1 bit per user id (voters, awarded)` },
        {
          phase: '10 memory',
          metric: `projection: ${fmt(m.projection.users)} users + a ${fmt(m.projection.voters)}-voter poll`,
          value: `${fmt(m.projection.oneRedisGB, 2)} GB on one Redis | ${fmt(m.projection.perMasterOf3GB, 2)} GB per master of 3`,
          note: `users ${fmt(m.projection.usersGB, 2)} GB; the poll ${fmt(m.projection.pollMB, 1)} MB of which bitmaps ${fmt(m.projection.bitmapsMB, 1)} MB; queues and Socket.IO state not included`,
        },
      );
    }
    const calls = await callsPerVote(main, ctx, voters.slice(0, 1001), 1000);
    results.redisCallsPerVote = calls;
    // the poll definition is re-read every few seconds per process (a cache refresh, not per vote): counted, rounded
    rows.push({ phase: '1 votes', metric: 'Redis calls per vote (server, EVALSHA = 1)', value: `${fmt(calls.perVote, 3)}  ${Object.entries(calls.byCommand).map(([c, n]) => `${c}:${fmt(n / calls.votes, 3)}`).join(' ')}`, target: '<= 2', pass: round(calls.perVote, 1) <= 2 });
  }

  // ---------------- redis-benchmark: the cast script alone ----------------
  let rbAlways: RedisBenchResult | null = null;
  if (has('votes') || has('redis')) {
    rbAlways = await redisBenchmarkCast(main, ctx, { requests: opts.quick ? 20_000 : 200_000, connections: opts.connections });
    results.redisBenchmark = { always: rbAlways };
    if (always) {
      rows.push(
        { phase: '1 votes', metric: 'redis-benchmark cast-ballot EVALSHA/s (AOF always)', value: `${fmt(rbAlways.rps)}  p50/p99 ${rbAlways.p50ms}/${rbAlways.p99ms} ms` },
        { phase: '1 votes', metric: 'ratio to redis-benchmark of the Lua script', value: fmt(always.http.okPerSec / rbAlways.rps, 2) },
      );
    }
  }

  // ---------------- 2: fan-out ----------------
  if (has('fanout')) {
    const fan: { n: number; load: string; socketio: FanoutResult; ws: FanoutResult }[] = [];
    for (const n of fanoutNs) {
      if (n + 1000 > voters.length) {
        progress(`fan-out N=${n}: needs ${n + 1000} voters, have ${voters.length}; skipped`);
        continue;
      }
      const probeMs = 100;
      const load = loadNow();
      const { result: sio, frame } = await fanoutPlatform(main, ctx, voters, n, { tickMs: opts.tickMs, probeMs, seconds: opts.fanoutSeconds, rate: opts.fanoutRate, client: opts.watchClient });
      const ws = await fanoutWs(n, frame, { tickMs: opts.tickMs, probeMs, seconds: opts.fanoutSeconds });
      fan.push({ n, load, socketio: sio, ws });
      const capped = opts.watchers.find((x) => x > n && Math.min(x, openFilesLimit() - 400) === n);
      rows.push(...fanoutRows(n, load, sio, ws, { tickMs: opts.tickMs, watchClient: opts.watchClient, cappedFrom: capped }));
    }
    results.fanout = fan;
  }

  // ---------------- 4: finalisation of a poll with 1M ballots ----------------
  if (has('finalise')) {
    const load = loadNow();
    const f: FinaliseResult = await finalisePhase(main, ctx, opts.finaliseBallots, { awardsDone: true });
    results.finalise = { ...f, load };
    rows.push({ phase: '4 finalise', metric: `finalise a poll of ${fmt(f.ballots)} ballots (s)`, value: fmt(f.seconds, 2), target: '<= 5', pass: f.ok && f.seconds <= 5, note: `${f.note}; load ${load}` });
    rows.push({
      phase: '4 finalise',
      metric: `+ publish its ballot ledger (s)`,
      value: fmt(f.exportSeconds, 2),
      target: '—',
      note: `what finalisation adds when publicLedger is on: read, shuffle, write and hash ledger.jsonl + ledger.csv (${fmt(Math.round(f.exportBytes / 1e6))} MB); load ${loadNow()}`,
    });
  }

  await cleanup();
  main = null;

  // ---------------- 7: 1 vs N server processes (SERVER_PROCESSES), the same vote run ----------------
  if (has('processes') && always) {
    const n = machine.cpus;
    const multi = await startPlatform({ appendfsync: 'always', tickMs: opts.tickMs, workerConcurrency: opts.workerConcurrency, serverProcesses: n });
    cleanups.push(() => multi.stop());
    const ctxN = benchContext(multi);
    cleanups.push(() => ctxN.close());
    const vN = await seedVoters(multi.redisUrl, multi.prefix, votersNeeded);
    const runN = await voteRun(multi, ctxN, vN, { connections: opts.connections, duration: opts.duration, label: `votes (${n} server processes)`, warmupSec: opts.quick ? 1 : 3 });
    await cleanup();
    results.processes = { one: { okPerSec: always.http.okPerSec, cpuPerBallotUs: always.cpu.perBallotUs, load: always.load }, n, many: { okPerSec: runN.http.okPerSec, latencyMs: runN.http.latencyMs, cpuPerBallotUs: runN.cpu.perBallotUs, load: runN.load } };
    rows.push({
      phase: '7 processes',
      metric: `ballots/s: 1 | ${n} server processes`,
      value: `${fmt(always.http.okPerSec)}  |  ${fmt(runN.http.okPerSec)}  (x${fmt(runN.http.okPerSec / always.http.okPerSec, 2)})`,
      note: `CPU per ballot (µs) with ${n}: server ${fmt(runN.cpu.perBallotUs.server)}, worker ${fmt(runN.cpu.perBallotUs.worker)}, redis-server ${fmt(runN.cpu.perBallotUs.redis)}; ${machine.cpus} cores shared with Redis, the worker and the load process; load ${runN.load.start}`,
    });
  }
  // ---------------- 9: the cast step on one Redis vs a local 3-master Redis Cluster, S=4 ----------------
  if (has('cluster')) {
    const c = await clusterCastPhase({ seconds: opts.duration, concurrency: opts.connections * 4, shards: 4 });
    results.cluster = c;
    rows.push(
      {
        phase: '9 cluster',
        metric: 'cast step ballots/s, S=4: one Redis | 3-master cluster',
        value: `${fmt(c.single.ballotsPerSec)}  |  ${fmt(c.cluster.ballotsPerSec)}  (x${fmt(c.cluster.ballotsPerSec / c.single.ballotsPerSec, 2)})`,
        note: `the ballot store's cast script from one Node process (${opts.connections * 4} in flight), AOF always on every node; the bench process is the client, so its CPU (${fmt(c.single.clientCpuPerBallotUs)} | ${fmt(c.cluster.clientCpuPerBallotUs)} µs per ballot) caps both on this machine; load ${c.single.load} | ${c.cluster.load}`,
      },
      {
        phase: '9 cluster',
        metric: 'redis-server CPU per ballot (µs): one Redis | cluster (sum of masters)',
        value: `${fmt(c.single.redisCpuPerBallotUs, 1)}  |  ${fmt(c.cluster.redisCpuPerBallotUs, 1)}  (per master ${c.cluster.perMasterCpuPerBallotUs.map((x) => fmt(x, 1)).join(' / ')})`,
      },
    );
  }
  if (always) rows.push(...capacityRows(always.cpu.perBallotUs, results));

  // ---------------- 5: the same vote run on AOF everysec ----------------
  if (has('durability') && always) {
    const ev = await startPlatform({ appendfsync: 'everysec', tickMs: opts.tickMs, workerConcurrency: opts.workerConcurrency });
    cleanups.push(() => ev.stop());
    const ctx2 = benchContext(ev);
    cleanups.push(() => ctx2.close());
    const v2 = await seedVoters(ev.redisUrl, ev.prefix, votersNeeded);
    const everysec = await voteRun(ev, ctx2, v2, { connections: opts.connections, duration: opts.duration, label: 'votes (AOF everysec)', warmupSec: opts.quick ? 1 : 3 });
    const rbEv = await redisBenchmarkCast(ev, ctx2, { requests: opts.quick ? 20_000 : 200_000, connections: opts.connections });
    await cleanup();
    results.durability = {
      always: { okPerSec: always.http.okPerSec, latencyMs: always.http.latencyMs, cpuPerBallotUs: always.cpu.perBallotUs, load: always.load, redisBenchmark: rbAlways },
      everysec: { okPerSec: everysec.http.okPerSec, latencyMs: everysec.http.latencyMs, statuses: everysec.http.statuses, cpuPerBallotUs: everysec.cpu.perBallotUs, load: everysec.load, redisBenchmark: rbEv },
    };
    rows.push(
      { phase: '5 durability', metric: 'ballots/s: AOF always | everysec', value: `${fmt(always.http.okPerSec)}  |  ${fmt(everysec.http.okPerSec)}  (x${fmt(everysec.http.okPerSec / always.http.okPerSec, 2)})` },
      { phase: '5 durability', metric: 'ballot p50 / p99 (ms): always | everysec', value: `${always.http.latencyMs.p50} / ${always.http.latencyMs.p99}  |  ${everysec.http.latencyMs.p50} / ${everysec.http.latencyMs.p99}` },
      { phase: '5 durability', metric: 'redis-benchmark cast/s: always | everysec', value: `${fmt(rbAlways?.rps ?? NaN)}  |  ${fmt(rbEv.rps)}` },
      { phase: '5 durability', metric: 'redis-server CPU per ballot (µs): always | everysec', value: `${fmt(always.cpu.perBallotUs.redis)}  |  ${fmt(everysec.cpu.perBallotUs.redis)}`, note: `load ${always.load.start} (always) and ${everysec.load.start} (everysec) at the start of each run` },
    );
  }

  finish();
  process.exit(0);
} catch (err) {
  progress(`bench failed: ${(err as Error).stack ?? err}`);
  await cleanup();
  process.exit(1);
}
