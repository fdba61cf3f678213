import type { AppContext } from '../../server/context.ts';
import type { TallyFrame } from '../../shared/socket.ts';
import { tallyFrame } from '../../server/realtime/live.service.ts';
import { forkBench, type Child } from '../lib/proc.ts';
import { runHttpLoad } from '../lib/load.ts';
import type { Platform } from '../lib/platform.ts';
import { ballotBodies, probeBody, publishedPoll, PROBE_O, PROBE_Q } from '../lib/polls.ts';
import { connectionPool, closePool, seedBallots } from '../lib/cast.ts';
import type { Voter } from '../lib/seed.ts';
import { nowMs, openFilesLimit, progress, rssOf, sleep } from '../lib/util.ts';
import { fmt, type Row } from '../lib/report.ts';
import type { WatchSpec } from '../load/watchers.ts';

export type FanoutResult = {
  mode: 'socketio' | 'ws';
  watchers: number;
  connected: number;
  failed: number;
  firstError?: string;
  connectSeconds: number;
  probes: number;
  samples: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number };
  framesPerSec: number;
  framesExpectedPerSec: number;
  rssPerSocketKB: number;
  /** Socket.IO only: right after the watchers connected (before the measured run's votes and frames). */
  rssAtConnectPerSocketKB?: number;
  watchersBehindLastProbe: number;
  /** Watchers whose connection closed while they watched (should be 0). */
  closedWhileWatching: number;
  backgroundVotesPerSec?: number;
  /** Socket.IO only: which client the watchers ran (see bench/load/watchers.ts). */
  client?: 'lean' | 'socket.io-client';
};

/** Watchers per load process (each client socket is one fd; the per-process limit is 20000 here). */
const PER_PROCESS = 10_000;
let runIndex = 0;

type Watchers = { procs: Child[]; connected: number; failed: number; firstError: string; seconds: number };

async function connectWatchers(spec: Omit<WatchSpec, 'cookies' | 'localAddresses'>, cookies: string[]): Promise<Watchers> {
  const nProcs = Math.max(1, Math.ceil(cookies.length / PER_PROCESS));
  const run = ++runIndex;
  const procs: Child[] = [];
  const t0 = Date.now();
  for (let j = 0; j < nProcs; j++) {
    const part = cookies.filter((_, i) => i % nProcs === j);
    const child = forkBench('bench/load/watchers.ts', [], { execArgv: ['--max-old-space-size=4096'] });
    await child.message('ready', 30_000);
    // a fresh source address per run: no port reuse against TIME_WAIT of earlier runs
    const localAddresses = [`127.${(run % 250) + 1}.${j + 1}.1`, `127.${(run % 250) + 1}.${j + 1}.2`];
    child.onMessage('progress', (m) => progress(`  watchers[${j}] ${spec.mode}: ${m.connected} connected, ${m.failed} failed`));
    child.send({ type: 'connect', spec: { ...spec, cookies: part, localAddresses } });
    procs.push(child);
  }
  let connected = 0;
  let failed = 0;
  let firstError = '';
  for (const c of procs) {
    const m = await c.message<{ type: string; connected: number; failed: number; firstError: string }>('connected', 600_000);
    connected += m.connected;
    failed += m.failed;
    firstError ||= m.firstError;
  }
  return { procs, connected, failed, firstError, seconds: (Date.now() - t0) / 1000 };
}

async function measure(w: Watchers, seconds: number, runProbes: (stop: () => boolean) => Promise<number>) {
  for (const c of w.procs) c.send({ type: 'measure-start' });
  for (const c of w.procs) await c.message('measuring', 30_000);
  const until = Date.now() + seconds * 1000;
  const probes = await runProbes(() => Date.now() >= until);
  await sleep(1500); // the last probe's frame
  for (const c of w.procs) c.send({ type: 'measure-stop' });
  const parts = [];
  for (const c of w.procs) parts.push(await c.message<any>('measured', 120_000));
  return { probes, parts };
}

async function closeWatchers(w: Watchers) {
  for (const c of w.procs) c.send({ type: 'close' });
  await Promise.all(w.procs.map((c) => Promise.race([c.exited, sleep(30_000)]).then(() => c.stop(2_000))));
}

function combine(parts: any[]) {
  // percentiles over all samples cannot be merged exactly from parts: take the max of the parts' p99
  // (conservative) and the sample-weighted p50
  const samples = parts.reduce((a, p) => a + p.samples, 0);
  return {
    samples,
    latencyMs: {
      p50: parts.reduce((a, p) => a + (p.samples ? p.latencyMs.p50 * p.samples : 0), 0) / Math.max(1, samples),
      p90: Math.max(...parts.map((p) => p.latencyMs.p90 || 0)),
      p99: Math.max(...parts.map((p) => p.latencyMs.p99 || 0)),
      max: Math.max(...parts.map((p) => p.latencyMs.max || 0)),
    },
    framesPerSec: parts.reduce((a, p) => a + p.framesPerSec, 0),
    behind: parts.reduce((a, p) => a + p.watchersBehindLastProbe, 0),
    closed: parts.reduce((a, p) => a + (p.closedAfterWatching ?? 0), 0),
  };
}

/** The same N against a plain `ws` server broadcasting the same frame every tick. */
export async function fanoutWs(n: number, frame: TallyFrame, o: { tickMs: number; probeMs: number; seconds: number }): Promise<FanoutResult> {
  const tpl = structuredClone(frame);
  tpl.results.questions.find((q) => q.id === PROBE_Q)!.options.find((x) => x.id === PROBE_O)!.count = 0;
  // ws-broadcast.ts looks for the probe option in the first question
  const server = forkBench('bench/baseline/ws-broadcast.ts', [String(o.tickMs), String(o.probeMs), JSON.stringify(tpl)]);
  const { port } = await server.message<{ type: string; port: number }>('listening', 30_000);
  const rss0 = rssOf(server.pid);
  progress(`fan-out ws baseline: connecting ${n} ws clients`);
  const w = await connectWatchers({ mode: 'ws', url: `ws://127.0.0.1:${port}`, pollId: frame.pollId, concurrency: 200, probeQuestion: PROBE_Q, probeOption: PROBE_O }, new Array(n).fill(''));
  progress(`fan-out ws baseline: ${w.connected} connected in ${w.seconds.toFixed(1)} s`);
  let k = 0;
  server.onMessage('accept', (m) => {
    k = m.k as number;
    for (const c of w.procs) c.send(m);
  });
  const { parts } = await measure(w, o.seconds, async (stop) => {
    server.send({ type: 'probe-start' });
    while (!stop()) await sleep(50);
    server.send({ type: 'probe-stop' });
    await server.message('probe-stopped', 10_000);
    return k;
  });
  const rss1 = rssOf(server.pid);
  await closeWatchers(w);
  await server.stop(2_000);
  const c = combine(parts);
  const r: FanoutResult = {
    mode: 'ws',
    watchers: n,
    connected: w.connected,
    failed: w.failed,
    firstError: w.firstError || undefined,
    connectSeconds: w.seconds,
    probes: k,
    samples: c.samples,
    latencyMs: c.latencyMs,
    framesPerSec: c.framesPerSec,
    framesExpectedPerSec: (w.connected * 1000) / o.tickMs,
    rssPerSocketKB: (rss1 - rss0) / 1024 / Math.max(1, w.connected),
    watchersBehindLastProbe: c.behind,
    closedWhileWatching: c.closed,
  };
  progress(`fan-out ws baseline N=${n}: p50 ${r.latencyMs.p50.toFixed(1)} ms, p99 ${r.latencyMs.p99.toFixed(1)} ms, ${Math.round(r.framesPerSec)} frames/s, ${r.rssPerSocketKB.toFixed(1)} KB/socket`);
  return r;
}

/**
 * N signed-in residents who voted watch one poll over Socket.IO while votes stream in over HTTP; a probe
 * voter (one ballot in flight at a time, every ~probeMs) picks the `probe` option, so a frame whose probe
 * count reaches k carries probe k: latency = frame received − probe k's 201 received.
 */
export async function fanoutPlatform(
  p: Platform,
  ctx: AppContext,
  voters: Voter[],
  n: number,
  o: { tickMs: number; probeMs: number; seconds: number; rate: number; client: 'lean' | 'socket.io-client' },
): Promise<{ result: FanoutResult; frame: TallyFrame }> {
  const pollId = await publishedPoll(ctx, { points: 0 });
  const watchers = voters.slice(0, n);
  const probes = voters.slice(n, n + Math.ceil((o.seconds * 1000) / o.probeMs) + 50);
  const background = voters.slice(n + probes.length);
  const pool = connectionPool(p.redisUrl, 4);
  const pre = await seedBallots(ctx, pool, pollId, watchers.map((v) => v.id), `fan-out N=${n}: watchers' own ballots`).finally(() => closePool(pool));
  progress(`fan-out N=${n}: ${n} watchers voted (poll ${pollId}) in ${pre.seconds.toFixed(1)} s`);
  const frame = tallyFrame(await ctx.ballots.results(pollId));
  // the server as it runs while a poll is live: votes coming in (its heap sized for that) before the
  // zero-watcher RSS is read, so the growth below is what the watchers add, not the vote load's own
  const warmVoters = background.splice(0, Math.min(background.length >> 1, Math.ceil(o.rate * 2)));
  if (warmVoters.length) {
    await runHttpLoad({ url: p.url, path: `/api/polls/${pollId}/ballots`, connections: 8, durationSec: 2, overallRate: o.rate, origin: p.origin, voters: warmVoters, bodies: ballotBodies(), label: `fan-out N=${n} warm-up votes` });
    await sleep(1000);
  }
  const rss0 = rssOf(p.server.pid);
  progress(`fan-out N=${n}: connecting ${n} Socket.IO watchers`);
  const w = await connectWatchers(
    { mode: 'socketio', client: o.client, url: p.url, pollId, concurrency: 100, probeQuestion: PROBE_Q, probeOption: PROBE_O },
    watchers.map((v) => v.cookie),
  );
  progress(`fan-out N=${n}: ${w.connected} watching in ${w.seconds.toFixed(1)} s${w.failed ? `, ${w.failed} failed (${w.firstError})` : ''}`);
  await sleep(1000);
  const rss1 = rssOf(p.server.pid);
  const bg = runHttpLoad({
    url: p.url,
    path: `/api/polls/${pollId}/ballots`,
    connections: 8,
    durationSec: o.seconds + 2,
    overallRate: o.rate,
    origin: p.origin,
    voters: background,
    bodies: ballotBodies(),
    label: `fan-out N=${n} background votes`,
  });
  await sleep(500);
  let k = 0;
  const body = probeBody();
  const { parts } = await measure(w, o.seconds, async (stop) => {
    let i = 0;
    while (!stop() && i < probes.length) {
      const v = probes[i++];
      const started = Date.now();
      const r = await fetch(`${p.url}/api/polls/${pollId}/ballots`, { method: 'POST', headers: { cookie: v.cookie, origin: p.origin, 'content-type': 'application/json' }, body });
      const t = nowMs();
      await r.arrayBuffer();
      if (r.status === 201) {
        k++;
        for (const c of w.procs) c.send({ type: 'accept', k, t });
      }
      await sleep(Math.max(0, o.probeMs - (Date.now() - started)) + Math.random() * 20);
    }
    return k;
  });
  const bgResult = await bg;
  const rss2 = rssOf(p.server.pid);
  await closeWatchers(w);
  const c = combine(parts);
  const result: FanoutResult = {
    mode: 'socketio',
    watchers: n,
    connected: w.connected,
    failed: w.failed,
    firstError: w.firstError || undefined,
    connectSeconds: w.seconds,
    probes: k,
    samples: c.samples,
    latencyMs: c.latencyMs,
    framesPerSec: c.framesPerSec,
    framesExpectedPerSec: (w.connected * 1000) / o.tickMs,
    rssPerSocketKB: (Math.max(rss1, rss2) - rss0) / 1024 / Math.max(1, w.connected),
    rssAtConnectPerSocketKB: (rss1 - rss0) / 1024 / Math.max(1, w.connected),
    watchersBehindLastProbe: c.behind,
    closedWhileWatching: c.closed,
    backgroundVotesPerSec: bgResult.okPerSec,
    client: o.client,
  };
  progress(`fan-out Socket.IO N=${n}: p50 ${result.latencyMs.p50.toFixed(1)} ms, p99 ${result.latencyMs.p99.toFixed(1)} ms, ${Math.round(result.framesPerSec)} frames/s, ${result.rssPerSocketKB.toFixed(1)} KB/socket (${result.rssAtConnectPerSocketKB!.toFixed(1)} right after connecting)`);
  return { result, frame };
}

/** One watcher count's table rows: latency, frames/s and RSS per socket against the `ws` baseline. */
export function fanoutRows(n: number, load: string, sio: FanoutResult, ws: FanoutResult, o: { tickMs: number; watchClient: string; cappedFrom?: number }): Row[] {
  const note = [
    o.cappedFrom ? `asked ${o.cappedFrom}; capped at ${n} by the open-files limit (${openFilesLimit()}, not raisable here)` : '',
    sio.failed ? `${sio.failed} watchers failed to connect: ${sio.firstError}` : '',
    sio.closedWhileWatching || ws.closedWhileWatching ? `connections closed while watching: Socket.IO ${sio.closedWhileWatching}, ws ${ws.closedWhileWatching}` : '',
    `Socket.IO watchers: ${o.watchClient === 'lean' ? 'the protocol over ws (one JSON.parse a frame, as the ws watchers)' : 'socket.io-client'}`,
    `load ${load}; ${sio.probes} probes, ${sio.samples} samples; ${fmt(sio.backgroundVotesPerSec ?? 0)} background votes/s; ws baseline ${ws.samples} samples`,
  ].filter(Boolean).join('; ');
  const target = o.tickMs + 50;
  const phase = `2 fan-out N=${fmt(n)}`;
  return [
    { phase, metric: 'vote → frame p50 / p99 (ms), Socket.IO | ws', value: `${fmt(sio.latencyMs.p50)} / ${fmt(sio.latencyMs.p99)}  |  ${fmt(ws.latencyMs.p50)} / ${fmt(ws.latencyMs.p99)}`, target: `p99 <= ${target}`, pass: sio.connected > 0 && sio.latencyMs.p99 <= target, note },
    { phase, metric: 'frames delivered/s, Socket.IO | ws', value: `${fmt(sio.framesPerSec)}  |  ${fmt(ws.framesPerSec)}` },
    {
      phase,
      metric: 'server RSS per socket (KB), Socket.IO | ws',
      value: `${fmt(sio.rssPerSocketKB, 1)}  |  ${fmt(ws.rssPerSocketKB, 1)}  (x${fmt(sio.rssPerSocketKB / ws.rssPerSocketKB, 2)})`,
      target: '<= 1.3x ws',
      pass: sio.connected > 0 && ws.connected > 0 && sio.rssPerSocketKB <= 1.3 * ws.rssPerSocketKB,
      note: `Socket.IO right after connecting: ${fmt(sio.rssAtConnectPerSocketKB ?? NaN, 1)} KB/socket (the figure above is the larger of that and after the run's votes and frames)`,
    },
  ];
}
