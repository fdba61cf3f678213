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
 * Worker lag: for every vote accepted in a max-rate run, the time from the voter's 201 to the points
 * award job's completion (the `completed` event's Redis stream id is the completion time, in ms).
 */
export function watchPointsCompletions(p: Platform): { stop: () => Promise<Map<string, number>>; count: (prefix: string) => number } {
  const qe = new QueueEvents('points', { connection: { url: p.redisUrl } as any, prefix: queuePrefix(p.prefix), autorun: true });
  const done = new Map<string, number>();
  const counts = new Map<string, number>();
  qe.on('completed', ({ jobId }, id) => {
    done.set(jobId, Number(String(id).split('-')[0]));
    const poll = jobId.slice(0, jobId.lastIndexOf('-') + 1);
    counts.set(poll, (counts.get(poll) ?? 0) + 1);
  });
  return {
    count: (prefix) => counts.get(prefix) ?? 0,
    stop: async () => {
      await qe.close();
      return done;
    },
  };
}

export async function workerLag(
  watch: ReturnType<typeof watchPointsCompletions>,
  accepts: number[],
  pollId: number,
  waitMs: number,
): Promise<{ votes: number; credited: number; missing: number; lagMs: ReturnType<typeof summarize>; drainSeconds: number }> {
  const expected = accepts.length / 2;
  const t0 = nowMs();
  let lastLog = 0;
  const prefix = `award-vote-${pollId}-`;
  while (watch.count(prefix) < expected && nowMs() - t0 < waitMs) {
    if (nowMs() - lastLog > 3000) {
      lastLog = nowMs();
      progress(`worker lag: ${watch.count(prefix)}/${expected} points awards completed`);
    }
    await sleep(100);
  }
  const drainSeconds = (nowMs() - t0) / 1000;
  const done = await watch.stop();
  const lags: number[] = [];
  for (let i = 0; i < accepts.length; i += 2) {
    const t = done.get(`award-vote-${pollId}-${accepts[i]}`);
    if (t !== undefined) lags.push(Math.max(0, t - accepts[i + 1]));
  }
  const s = summarize(lags);
  progress(`worker lag: ${lags.length}/${expected} credited, p50 ${round(s.p50)} ms, p99 ${round(s.p99)} ms, drained ${drainSeconds.toFixed(1)} s after the load`);
  return { votes: expected, credited: lags.length, missing: expected - lags.length, lagMs: s, drainSeconds };
}
