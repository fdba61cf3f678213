import { Redis } from 'ioredis';
import { QueueEvents } from 'bullmq';
import type { AppContext } from '../../server/context.ts';
import { queuePrefix } from '../../server/redis/keys.ts';
import { runHttpLoad } from '../lib/load.ts';
import type { HttpRunResult } from '../load/http-votes.ts';
import type { Platform } from '../lib/platform.ts';
import { ballotBodies, publishedPoll } from '../lib/polls.ts';
import { commandStats } from '../lib/redis-stats.ts';
import type { Voter } from '../lib/seed.ts';
import { cpuMeter, loadNow, mapLimit, progress, sleep, summarize, nowMs, round } from '../lib/util.ts';

export type VoteRun = {
  appendfsync: string;
  pollId: number;
  http: HttpRunResult;
  /** INFO commandstats over the run, all clients (server + worker), commands inside scripts included. */
  commandstats: Record<string, number>;
  /** CPU used over the measured run by each process, and per accepted ballot (µs): robust to a busy machine. */
  cpu: { wallMs: number; cpuMs: Record<string, number>; perBallotUs: Record<string, number> };
  /** /proc/loadavg when the measured run started and ended. */
  load: { start: string; end: string };
};

/** Votes at max rate over HTTP keep-alive from a separate autocannon process; one poll, distinct voters. */
export async function voteRun(
  p: Platform,
  ctx: AppContext,
  voters: Voter[],
  o: { connections: number; duration: number; label: string; recordAccepts?: boolean; warmupSec?: number },
): Promise<VoteRun> {
  const bodies = ballotBodies();
  if (o.warmupSec) {
    const warm = await publishedPoll(ctx);
    await runHttpLoad({ url: p.url, path: `/api/polls/${warm}/ballots`, connections: o.connections, durationSec: o.warmupSec, origin: p.origin, voters, bodies, label: `${o.label} warm-up` });
  }
  const pollId = await publishedPoll(ctx);
  const admin = new Redis(p.redisUrl);
  await admin.config('RESETSTAT');
  const loadStart = loadNow();
  const meter = cpuMeter({ server: p.server.pid, worker: p.worker.pid, redis: p.redis.pid });
  const http = await runHttpLoad({
    url: p.url,
    path: `/api/polls/${pollId}/ballots`,
    connections: o.connections,
    durationSec: o.duration,
    origin: p.origin,
    voters,
    bodies,
    recordAccepts: o.recordAccepts,
    label: o.label,
  });
  const used = meter.stop();
  const load = { start: loadStart, end: loadNow() };
  used.cpuMs.load = http.loadCpuMs;
  const perBallotUs = Object.fromEntries(Object.entries(used.cpuMs).map(([k, ms]) => [k, round((ms * 1000) / Math.max(1, http.ok), 0)]));
  progress(`${o.label}: CPU per accepted ballot (µs) ${JSON.stringify(perBallotUs)}; load ${load.start} → ${load.end}`);
  const commandstats = await commandStats(admin);
  admin.disconnect();
  const integrity = await ctx.ballots.integrity(pollId);
  // ballots in flight when the load stops land without being counted by the load tool
  const accepted = http.statuses['201'] ?? 0;
  if (!integrity.ok || integrity.ballots < accepted || integrity.ballots > accepted + o.connections) {
    progress(`${o.label}: WARNING integrity ${JSON.stringify(integrity)} vs ${http.statuses['201']} accepted`);
  }
  return { appendfsync: p.appendfsync, pollId, http, commandstats, cpu: { ...used, perBallotUs }, load };
}

/**
 * Redis calls per vote, exactly: the worker is paused (SIGSTOP) so only the server talks to Redis,
 * MONITOR records every command, and commands run inside Lua scripts (source "lua") are not counted:
 * an EVALSHA is one call however much it does inside.
 */
export async function callsPerVote(p: Platform, ctx: AppContext, voters: Voter[], n = 1000): Promise<{ votes: number; calls: number; perVote: number; byCommand: Record<string, number>; insideScripts: Record<string, number> }> {
  const pollId = await publishedPoll(ctx);
  // warm the server's poll cache and connections with one vote outside the count
  const bodies = ballotBodies();
  const post = (v: Voter, i: number) =>
    fetch(`${p.url}/api/polls/${pollId}/ballots`, { method: 'POST', headers: { cookie: v.cookie, origin: p.origin, 'content-type': 'application/json' }, body: bodies[i % bodies.length] }).then(async (r) => {
      await r.arrayBuffer();
      return r.status;
    });
  await post(voters[0], 0);
  p.worker.child.kill('SIGSTOP');
  const base = new Redis(p.redisUrl);
  base.on('error', () => {});
  const mon = await base.monitor();
  const byCommand: Record<string, number> = {};
  const insideScripts: Record<string, number> = {};
  let counting = true;
  mon.on('monitor', (_time: string, args: string[], source: string) => {
    if (!counting) return;
    const cmd = String(args[0]).toLowerCase();
    const into = source === 'lua' ? insideScripts : byCommand;
    into[cmd] = (into[cmd] ?? 0) + 1;
  });
  await sleep(200);
  for (const k of Object.keys(byCommand)) delete byCommand[k];
  for (const k of Object.keys(insideScripts)) delete insideScripts[k];
  let votes = 0;
  try {
    const statuses = await mapLimit(voters.slice(1, n + 1), 16, (v, i) => post(v, i + 1));
    votes = statuses.filter((s) => s === 201).length;
    await sleep(300); // let fire-and-forget work (the points job add) land
  } finally {
    counting = false;
    mon.disconnect();
    base.disconnect();
    p.worker.child.kill('SIGCONT');
  }
  const calls = Object.values(byCommand).reduce((a, b) => a + b, 0);
  progress(`redis calls per vote: ${(calls / votes).toFixed(2)} (${JSON.stringify(byCommand)} over ${votes} votes)`);
  return { votes, calls, perVote: calls / votes, byCommand, insideScripts };
}

/**
 * Worker lag: for every vote accepted in a max-rate run, the time from the voter's 201 to the end of the
 * award batch step that credited it. Award batches carry no voter: each step's `at` is the ledger time
 * of every voter it awarded, and the job's return value lists its steps ({at, n, doneAt}). So a voter's
 * ledger entry names its step, and the step's doneAt (after its awards and awarded bits) is the time.
 */
export function watchPointsCompletions(p: Platform): { stop: () => Promise<void>; voters: (pollId: number) => number; doneAt: (pollId: number, at: number) => number | undefined } {
  const qe = new QueueEvents('points', { connection: { url: p.redisUrl } as any, prefix: queuePrefix(p.prefix), autorun: true });
  const steps = new Map<number, Map<number, number>>(); // poll -> step at -> doneAt
  const voters = new Map<number, number>();
  type Steps = { pollId: number; steps: { at: number; n: number; doneAt: number }[] };
  const count = ({ pollId, steps: done }: Steps) => {
    const m = steps.get(pollId) ?? new Map<number, number>();
    steps.set(pollId, m);
    for (const st of done) {
      m.set(st.at, Math.max(m.get(st.at) ?? 0, st.doneAt));
      voters.set(pollId, (voters.get(pollId) ?? 0) + st.n);
    }
  };
  qe.on('completed', ({ jobId, returnvalue }) => {
    const rv = (typeof returnvalue === 'string' ? JSON.parse(returnvalue) : returnvalue) as (Steps & { drained?: Steps[] }) | null;
    if (jobId.startsWith('award-batch-') && rv) count(rv);
    // the safety net drains pending voters too (a set it finds non-empty while their batch job waits): its steps count alike
    else for (const d of rv?.drained ?? []) count(d);
  });
  return {
    voters: (pollId) => voters.get(pollId) ?? 0,
    doneAt: (pollId, at) => steps.get(pollId)?.get(at),
    stop: () => qe.close(),
  };
}

export async function workerLag(
  ctx: AppContext,
  watch: ReturnType<typeof watchPointsCompletions>,
  accepts: number[],
  pollId: number,
  waitMs: number,
): Promise<{ votes: number; credited: number; missing: number; lagMs: ReturnType<typeof summarize>; drainSeconds: number; steps: number }> {
  const expected = accepts.length / 2;
  // every ballot of the poll, also those in flight when the load tool stopped counting: a voter's step
  // may come after theirs, so waiting for `expected` awards alone could stop one job too early
  const ballots = Math.max(expected, (await ctx.ballots.integrity(pollId)).ballots);
  const t0 = nowMs();
  let lastLog = 0;
  while (watch.voters(pollId) < ballots && nowMs() - t0 < waitMs) {
    if (nowMs() - lastLog > 3000) {
      lastLog = nowMs();
      progress(`worker lag: ${watch.voters(pollId)}/${ballots} voters awarded by batch steps`);
    }
    await sleep(100);
  }
  const drainSeconds = (nowMs() - t0) / 1000;
  await sleep(200); // the last completion events
  await watch.stop();
  const lags: number[] = [];
  const ats = new Set<number>();
  for (let i = 0; i < accepts.length; i += 1000) {
    const chunk: number[] = [];
    for (let j = i; j < Math.min(accepts.length, i + 1000); j += 2) chunk.push(j);
    const ledgers = await Promise.all(chunk.map((j) => ctx.redis.lrange(ctx.keys.pointsLedger(accepts[j]), 0, 9)));
    chunk.forEach((j, x) => {
      const e = ledgers[x].map((l) => JSON.parse(l) as { at: number; reason: string; ref: string }).find((e) => e.reason === 'vote' && String(e.ref) === String(pollId));
      const done = e ? watch.doneAt(pollId, e.at) : undefined;
      if (e) ats.add(e.at);
      if (done !== undefined) lags.push(Math.max(0, done - accepts[j + 1]));
    });
  }
  const s = summarize(lags);
  progress(`worker lag: ${lags.length}/${expected} credited in ${ats.size} batch steps, p50 ${round(s.p50)} ms, p99 ${round(s.p99)} ms, drained ${drainSeconds.toFixed(1)} s after the load`);
  return { votes: expected, credited: lags.length, missing: expected - lags.length, lagMs: s, drainSeconds, steps: ats.size };
}
