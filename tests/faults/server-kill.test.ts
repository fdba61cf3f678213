import { describe, it, expect } from 'vitest';
import { freePort } from '../../server/redis/redis-server.ts';
import type { AppContext } from '../../server/context.ts';
import { lifecycleJobId } from '../../shared/jobs.ts';
import { until, type Spawned } from '../helpers/processes.ts';
import {
  faultRedis,
  faultContext,
  processRegistry,
  processEnv,
  spawnServer,
  spawnWorker,
  kill9,
  makeVoters,
  makeStaff,
  publishViaApi,
  castHttp,
  checkIntegrity,
  readLedger,
  expectedVoterHash,
  expectedReceipt,
  expectVoteAwardedOnce,
  queueSettled,
  percentile,
  pool,
  sleep,
  type FaultRedis,
  type CastResult,
} from '../helpers/faults.ts';

const SHARDS = 2;
const POINTS = 5;
const ROUNDS = 4;
const PER_ROUND = 150;
const CLIENTS = 24;
const answersOf = (i: number) => ({ q1: [['o1', 'o2', 'o3'][i % 3]], q2: [['o1', 'o2', 'o3', 'o4'][i % 4]] });

/** What one voter's client saw: every attempt's status (0 = the connection failed) and the final answer. */
type VoterOutcome = { userId: number; idx: number; attempts: CastResult[]; final: CastResult; ms: number };

/**
 * A resident's client that keeps trying until the platform answers: a network failure or a 5xx is
 * retried (after a short pause) against `target()`, which may name another server meanwhile. The
 * same answers every time, as a real client re-sending the same form would.
 */
async function voteUntilAnswered(target: () => string, headers: Record<string, string>, pollId: number, userId: number, idx: number, deadlineMs = 45_000): Promise<VoterOutcome> {
  const t0 = performance.now();
  const attempts: CastResult[] = [];
  for (;;) {
    const r = await castHttp(target(), headers, pollId, answersOf(idx), 5_000);
    attempts.push(r);
    if (r.status !== 0 && r.status < 500) return { userId, idx, attempts, final: r, ms: performance.now() - t0 };
    if (performance.now() - t0 > deadlineMs) return { userId, idx, attempts, final: r, ms: performance.now() - t0 };
    await sleep(25 + (attempts.length % 4) * 10);
  }
}

describe('faults: kill -9 of the API server while many voters keep retrying', () => {
  it('when the server is killed -9 mid-load 4 times (clients retry the restarted server on the same port, or fail over to a second server on the same Redis), then no ballot is counted twice, a retry of a landed ballot gets 409 with the original receipt, every 201 is in tallies and ledger, and integrity holds after each kill', async () => {
    const procs = processRegistry();
    let redis: FaultRedis | undefined;
    let ctx: AppContext | undefined;
    try {
      redis = await faultRedis('server-kill', 'always');
      const prefix = 'f:server-kill:';
      ctx = faultContext(redis.url, prefix);
      const env = processEnv(redis.url, prefix);
      const portA = await freePort();
      const portB = await freePort();
      let serverA = procs.add(await spawnServer(env, portA));
      const serverB = procs.add(await spawnServer(env, portB));
      const worker = procs.add(await spawnWorker(env));
      const urlA = serverA.url;
      const urlB = serverB.url;
      const mod = await makeStaff(ctx, '+79990999999', ['moderator']);
      const pollId = await publishViaApi(urlA, mod.headers, { shards: SHARDS, points: POINTS });
      const voters = await makeVoters(ctx, ROUNDS * PER_ROUND, 300_000);

      const landed = new Map<number, { receipt: string; idx: number }>(); // userId -> the receipt the platform answered with
      let unackedLandedTotal = 0;
      for (let round = 1; round <= ROUNDS; round++) {
        const failover = round % 2 === 0; // even rounds: clients switch to server B when A stops answering
        const label = failover ? 'fail over to server B' : 'retry the restarted server on the same port';
        const batch = voters.slice((round - 1) * PER_ROUND, round * PER_ROUND);
        const killAt = Math.floor(PER_ROUND * (0.25 + 0.1 * round));
        let aDown = false;
        let started = 0;
        let killedAt = 0;
        const kill: { restarted?: Promise<Spawned & { url: string }> } = {};
        const roundStart = performance.now();
        const outcomes = await pool(batch, CLIENTS, async (v, i) => {
          if (++started === killAt && !kill.restarted) {
            // kill -9 while the other clients have ballots in flight, then start a new server on the same port
            kill.restarted = (async () => {
              aDown = true;
              killedAt = performance.now();
              await kill9(serverA);
              const next = procs.add(await spawnServer(env, portA));
              aDown = false;
              return next;
            })();
          }
          const target = () => (failover && aDown ? urlB : urlA);
          return voteUntilAnswered(target, v.headers, pollId, v.user.id, (round - 1) * PER_ROUND + i);
        });
        expect(kill.restarted, 'the kill happened').toBeDefined();
        serverA = await kill.restarted!;
        const backMs = performance.now() - killedAt;
        const streamMs = performance.now() - roundStart;

        // every client got an answer, and only 201 or 409 already_voted
        const unexpected = outcomes.filter((o) => o.final.status !== 201 && !(o.final.status === 409 && o.final.code === 'already_voted'));
        expect(unexpected.map((o) => `user ${o.userId}: ${o.attempts.map((a) => a.status || a.error).join(' -> ')}`)).toEqual([]);
        let unacked = 0;
        for (const o of outcomes) {
          expect(o.final.receipt, `user ${o.userId}`).toBe(expectedReceipt(pollId, o.userId));
          if (o.final.status === 409) {
            // a 409 is only right if an earlier attempt of this very client may have landed unanswered
            expect(o.attempts.length, `user ${o.userId} got 409 on a first attempt`).toBeGreaterThan(1);
            expect(o.attempts.slice(0, -1).some((a) => a.status === 0 || a.status >= 500)).toBe(true);
            unacked++;
          }
          landed.set(o.userId, { receipt: o.final.receipt!, idx: o.idx });
        }
        unackedLandedTotal += unacked;

        // no ballot counted twice; every answered ballot is in the ledger with the answers it was sent
        const ledger = await readLedger(ctx, pollId, SHARDS);
        const perVoter = new Map<string, string[]>();
        for (const e of ledger.entries) perVoter.set(e.v, [...(perVoter.get(e.v) ?? []), e.a]);
        const doubles = [...perVoter.values()].filter((a) => a.length > 1).length;
        expect(doubles, 'voters with more than one ledger entry').toBe(0);
        expect(ledger.entries.length).toBe(landed.size);
        let missing = 0;
        for (const [userId, l] of landed) {
          const a = perVoter.get(expectedVoterHash(pollId, userId));
          if (a?.[0] !== JSON.stringify(answersOf(l.idx)) || !(await ctx.ballots.hasVoted(pollId, userId))) missing++;
        }
        expect(missing, 'answered ballots missing from ledger or voter marks').toBe(0);
        await checkIntegrity(ctx, pollId, `after server kill round ${round}`, landed.size);

        // every ballot of the round is re-sent (a client that never saw its answer, a double click):
        // 409 already_voted with the receipt it was first given, nothing counted
        const resent = await pool(batch, CLIENTS, async (v) => ({ v, r: await castHttp(round % 2 ? urlA : urlB, v.headers, pollId, answersOf(0)) }));
        for (const { v, r } of resent) {
          expect(`${r.status} ${r.code}`, `re-send of user ${v.user.id}`).toBe('409 already_voted');
          expect(r.receipt).toBe(landed.get(v.user.id)!.receipt);
        }
        await checkIntegrity(ctx, pollId, `after re-sending round ${round}`, landed.size);
        expect(serverB.child.exitCode, `server B died:\n${serverB.output().slice(-2000)}`).toBeNull();

        const attempts = outcomes.map((o) => o.attempts.length);
        const netErrors = outcomes.reduce((s, o) => s + o.attempts.filter((a) => a.status === 0).length, 0);
        const fivexx = outcomes.reduce((s, o) => s + o.attempts.filter((a) => a.status >= 500).length, 0);
        console.log(
          `[server kill -9] round ${round} (${label}): ${outcomes.filter((o) => o.final.status === 201).length} x 201, ${unacked} landed unanswered then 409 with the original receipt on retry, ${netErrors} connection failures + ${fivexx} 5xx retried (max ${Math.max(...attempts)} attempts by one client), ${ledger.entries.length} in ledger, 0 double; server A answering again ${backMs.toFixed(0)} ms after the kill; per-voter time to an answer p50 ${percentile(outcomes.map((o) => o.ms), 50).toFixed(0)} / p99 ${percentile(outcomes.map((o) => o.ms), 99).toFixed(0)} ms; round took ${streamMs.toFixed(0)} ms`,
        );
      }
      expect(landed.size).toBe(voters.length);

      // the worker awards every vote exactly once: an award job lost with a killed server (the ballot
      // landed, the enqueue never ran) is made up by the finalise sweep
      await queueSettled(ctx, 'points', 30_000);
      const votersWithoutAward: number[] = [];
      for (const v of voters) if (!(await ctx.redis.hexists(ctx.keys.pointsAwards(v.user.id), `vote:${pollId}`))) votersWithoutAward.push(v.user.id);
      const close = await fetch(`${serverA.url}/api/polls/${pollId}/close`, { method: 'POST', headers: mod.headers });
      expect(close.status).toBe(200);
      const final = await until(() => ctx!.polls.getFinal(pollId), 60_000, 100);
      expect(final.integrity?.ok).toBe(true);
      expect(final.results.ballots).toBe(voters.length);
      const job = await ctx.queues.lifecycle.getJob(lifecycleJobId('finalise', pollId));
      await until(async () => (await ctx!.queues.lifecycle.getJob(lifecycleJobId('finalise', pollId)))?.finishedOn, 20_000);
      const ret = (await ctx.queues.lifecycle.getJob(job!.id!))!.returnvalue as { swept: number; awarded: number };
      expect(ret.awarded).toBe(votersWithoutAward.length);
      await checkIntegrity(ctx, pollId, 'final, after 4 server kills', voters.length);
      await expectVoteAwardedOnce(ctx, pollId, voters.map((v) => v.user.id), POINTS, 'after 4 server kills');
      expect(worker.child.exitCode, `worker died:\n${worker.output().slice(-2000)}`).toBeNull();
      console.log(
        `[server kill -9] ${ROUNDS} kills: ${landed.size} voters, each counted once (${unackedLandedTotal} ballots landed with the reply lost to the kill, answered 409 + original receipt on retry); ${votersWithoutAward.length} award jobs lost with a killed server, made up by the finalise sweep (swept ${ret.swept}, awarded ${ret.awarded}); all ${voters.length} voters awarded exactly once`,
      );
    } finally {
      await procs.killAll();
      await ctx?.close().catch(() => {});
      await redis?.destroy();
    }
  });
});
