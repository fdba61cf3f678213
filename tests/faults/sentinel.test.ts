import { describe, it, expect, afterAll } from 'vitest';
import type { AppContext } from '../../server/context.ts';
import { freePort } from '../../server/redis/redis-server.ts';
import { until } from '../helpers/processes.ts';
import { startSentinelGroup, type SentinelGroup } from '../helpers/sentinel.ts';
import { faultContext, processRegistry, processEnv, spawnServer, spawnWorker, makeVoters, makeStaff, publishViaApi, checkIntegrity, percentile } from '../helpers/faults.ts';
import { acknowledgements, answersOf, castStream, refusals, type Voter } from '../helpers/ballot-stream.ts';

const SHARDS = 2;
const KILLS = 3;
const PER_ROUND = 90;
const STEADY = 120;
const summary: string[] = [];

/** A phase of a round, named in the error if it never completes. */
async function step<T>(label: string, p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (err) {
    throw new Error(`${label}: ${(err as Error).message}`, { cause: err });
  }
}

/**
 * The platform on Redis Sentinel (master + 1 replica + 3 sentinels): kill -9 of whichever node is master,
 * mid-stream, KILLS times. After each failover the killed node comes back as a replica (as an operator or
 * an orchestrator restarts it), so the next kill has a replica to promote.
 */
async function failovers(label: string, waitReplicas: number) {
  const procs = processRegistry();
  let group: SentinelGroup | undefined;
  let ctx: AppContext | undefined;
  try {
    group = await startSentinelGroup(label);
    const prefix = `f:${label}:`;
    const sentinelEnv = { REDIS_SENTINELS: group.sentinels, REDIS_SENTINEL_NAME: group.name };
    ctx = faultContext('', prefix, sentinelEnv);
    const env = processEnv('', prefix, { ...sentinelEnv, REDIS_WAIT_REPLICAS: String(waitReplicas) });
    const server = procs.add(await spawnServer(env, await freePort()));
    const worker = procs.add(await spawnWorker(env));
    const mod = await makeStaff(ctx, '+79990000003', ['moderator']);
    const pollId = await publishViaApi(server.url, mod.headers, { shards: SHARDS, points: 5 });
    const voters: Voter[] = await makeVoters(ctx, STEADY + KILLS * PER_ROUND, 500_000);
    const index = new Map(voters.map((v, i) => [v.user.id, i]));
    const answers = (v: Voter) => answersOf(index.get(v.user.id)!);
    const acks = acknowledgements();
    const mode = waitReplicas ? `WAIT ${waitReplicas}` : 'no WAIT';

    // steady state first: the latency of an acknowledged ballot in this mode
    const steady = await castStream({ url: server.url, pollId, voters: voters.slice(0, STEADY), answers, concurrency: 8, acks });
    expect(refusals(steady.results)).toEqual({});
    const ms = steady.results.map((r) => r.ms);
    const latency = { p50: percentile(ms, 50), p95: percentile(ms, 95) };
    console.log(`[sentinel, ${mode}] steady state: ${STEADY} ballots at 8 in flight, latency p50 ${latency.p50.toFixed(1)} ms, p95 ${latency.p95.toFixed(1)} ms`);
    if (waitReplicas) {
      // WAIT's own cost, without HTTP around it: one write, then the same write followed by WAIT
      const write: number[] = [];
      const writeWait: number[] = [];
      for (let i = 0; i < 200; i++) {
        let t = performance.now();
        await ctx.redis.set(`${prefix}wait-probe`, i);
        write.push(performance.now() - t);
        t = performance.now();
        await ctx.redis.set(`${prefix}wait-probe`, i);
        await ctx.redis.wait(waitReplicas, 1000);
        writeWait.push(performance.now() - t);
      }
      console.log(`[sentinel, ${mode}] one write alone p50 ${percentile(write, 50).toFixed(2)} ms, with WAIT ${waitReplicas} p50 ${percentile(writeWait, 50).toFixed(2)} ms (x${(percentile(writeWait, 50) / percentile(write, 50)).toFixed(1)}; 200 sequential, same run)`);
    }

    let lostTotal = 0;
    for (let round = 1; round <= KILLS; round++) {
      const batch = voters.slice(STEADY + (round - 1) * PER_ROUND, STEADY + round * PER_ROUND);
      let killed = 0;
      const t0 = performance.now();
      const { results, fault } = await castStream({
        url: server.url, pollId, voters: batch, answers, concurrency: 16, acks,
        faultAt: 30 + 10 * round,
        fault: async () => void (killed = await group!.killMaster()),
      });
      await fault;
      const promoted = await step(`round ${round}: failover after killing :${killed}`, group.failedOver(killed));
      const failoverMs = performance.now() - t0;
      await step(`round ${round}: :${killed} rejoining as a replica of :${promoted}`, group.rejoin(killed));
      let readyz = '';
      await step(`round ${round}: server ready again (last /readyz ${readyz})`, until(async () => {
        const r = await fetch(`${server.url}/readyz`);
        readyz = await r.text();
        return r.status === 200;
      }, 60_000, 100));
      const refused = refusals(results);
      for (const k of Object.keys(refused)) expect(k, 'only fast 503s while the master is away').toBe('503 unavailable');
      // the refused voters retry until acknowledged (201, or 409 with their receipt if their ballot had landed)
      for (let attempt = 1; attempt <= 5; attempt++) {
        const left = batch.filter((v) => !acks.acked.has(v.user.id));
        if (!left.length) break;
        const retry = await castStream({ url: server.url, pollId, voters: left, answers, concurrency: 8, acks });
        for (const k of Object.keys(refusals(retry.results))) expect(k).toBe('503 unavailable');
      }
      expect(batch.filter((v) => !acks.acked.has(v.user.id))).toEqual([]);
      const lost = await acks.lost(ctx, pollId, SHARDS);
      lostTotal = lost;
      console.log(
        `[sentinel, ${mode}] kill -9 #${round} of master :${killed} -> :${promoted} promoted ${failoverMs.toFixed(0)} ms after the stream began; stream ${results.filter((r) => r.status === 201).length} acked, refused ${JSON.stringify(refused)}; ${acks.acked.size} acknowledged so far, ${lost} of them lost`,
      );
      if (waitReplicas) expect(lost, `round ${round}: acknowledged ballots lost with WAIT`).toBe(0);
    }
    // writes followed the promoted masters; the worker's queues did too: closing the poll finalises it
    expect(server.child.exitCode).toBeNull();
    expect(worker.child.exitCode).toBeNull();
    const close = await fetch(`${server.url}/api/polls/${pollId}/close`, { method: 'POST', headers: mod.headers });
    expect(close.status).toBe(200);
    const final = await until(() => ctx!.polls.getFinal(pollId), 60_000, 100);
    expect(final.integrity?.ok).toBe(true);
    const end = await checkIntegrity(ctx, pollId, `after ${KILLS} failovers (${mode})`);
    const line = `[sentinel, ${mode}] ${KILLS} failovers: ${acks.acked.size} ballots acknowledged, ${lostTotal} lost (${end.ballots} in the final tallies); steady-state latency p50 ${latency.p50.toFixed(1)} ms, p95 ${latency.p95.toFixed(1)} ms`;
    console.log(line);
    summary.push(line);
    return { lost: lostTotal, acked: acks.acked.size, latency, ballots: end.ballots };
  } finally {
    await procs.killAll();
    await ctx?.close().catch(() => {});
    await group?.destroy();
  }
}

const measured: Record<string, { p50: number; p95: number }> = {};

describe('faults: Redis Sentinel failover under a stream of votes', () => {
  it('when the master is killed -9 three times without WAIT, then writes follow each promoted master and the acknowledged ballots lost are measured (README "Guarantees")', async () => {
    const out = await failovers('sentinel-async', 0);
    measured.async = out.latency;
    expect(out.ballots).toBe(out.acked - out.lost);
  });

  it('when REDIS_WAIT_REPLICAS=1 and the master is killed -9 three times, then no acknowledged ballot is lost', async () => {
    const out = await failovers('sentinel-wait', 1);
    measured.wait = out.latency;
    expect(out.lost).toBe(0);
    expect(out.ballots).toBe(out.acked);
  });

  afterAll(() => {
    if (measured.async && measured.wait) {
      summary.push(
        `[sentinel] latency cost of WAIT 1 in this run: p50 ${measured.async.p50.toFixed(1)} -> ${measured.wait.p50.toFixed(1)} ms (x${(measured.wait.p50 / measured.async.p50).toFixed(2)}), p95 ${measured.async.p95.toFixed(1)} -> ${measured.wait.p95.toFixed(1)} ms (x${(measured.wait.p95 / measured.async.p95).toFixed(2)})`,
      );
    }
    console.log(summary.join('\n'));
  });
});
