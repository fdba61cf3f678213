import { describe, it, expect } from 'vitest';
import { freePort } from '../../server/redis/redis-server.ts';
import type { AppContext } from '../../server/context.ts';
import { until } from '../helpers/processes.ts';
import {
  faultRedis,
  faultContext,
  processRegistry,
  processEnv,
  spawnServer,
  spawnWorker,
  makeVoters,
  makeStaff,
  publishViaApi,
  castHttp,
  checkIntegrity,
  readLedger,
  expectedVoterHash,
  expectedReceipt,
  pool,
  sleep,
  type FaultRedis,
  type CastResult,
} from '../helpers/faults.ts';

const SHARDS = 2;
/**
 * The documented loss bound of `appendfsync everysec`: Redis fsyncs once a second and may postpone an AOF
 * write up to 2 s while a previous fsync is slow, so at most the ballots acknowledged in the last 2 s before
 * a crash can be lost (a kill -9 of the process alone usually loses none: the page cache keeps them).
 */
const EVERYSEC_LOSS_WINDOW_MS = 2_000;
const answersOf = (i: number) => ({ q1: [['o1', 'o2', 'o3'][i % 3]], q2: [['o1', 'o2', 'o3', 'o4'][i % 4]] });

/**
 * kill -9 of redis-server in the middle of a stream of votes, then a restart on the same port and dir.
 * Real server and worker processes stay up through it and must reconnect by themselves.
 */
async function killRedisDuringVotes(opts: { label: string; fsync: 'always' | 'everysec'; rounds: number; perRound: number; phoneBase: number }) {
  const procs = processRegistry();
  let redis: FaultRedis | undefined;
  let ctx: AppContext | undefined;
  try {
    redis = await faultRedis(opts.label, opts.fsync);
    const prefix = `f:${opts.label}:`;
    ctx = faultContext(redis.url, prefix);
    const env = processEnv(redis.url, prefix);
    const port = await freePort();
    const server = procs.add(await spawnServer(env, port));
    const worker = procs.add(await spawnWorker(env));
    const mod = await makeStaff(ctx, `+7${opts.phoneBase + 999_999}`, ['moderator']);
    const pollId = await publishViaApi(server.url, mod.headers, { shards: SHARDS, points: 5 });
    const voters = await makeVoters(ctx, opts.rounds * opts.perRound, opts.phoneBase);

    const acked = new Map<number, { receipt: string; answers: Record<string, string[]> }>(); // userId -> 201 reply
    const ackedAt = new Map<number, number>(); // userId -> when the first 201 arrived (performance.now())
    const lostEver = new Set<number>();
    let failedTotal = 0;
    for (let round = 1; round <= opts.rounds; round++) {
      const roundStart = performance.now();
      const batch = voters.slice((round - 1) * opts.perRound, round * opts.perRound);
      let attempted = 0;
      const killAt = Math.floor(opts.perRound * (0.3 + 0.4 * ((round * 7) % 10) / 10));
      let killed: Promise<void> | null = null;
      let killStartedAt = Infinity;
      let killDoneAt = Infinity;
      const ackedThisRound: number[] = [];
      const results = await pool(batch, 12, async (v, i) => {
        const n = ++attempted;
        if (n === killAt && !killed) {
          // kill -9 Redis while the other 11 clients have ballots in flight; restart it shortly after
          killed = (async () => {
            killStartedAt = performance.now();
            await redis!.kill9();
            killDoneAt = performance.now();
            await sleep(150);
            await redis!.restart();
          })();
        }
        const idx = (round - 1) * opts.perRound + i;
        const r: CastResult = await castHttp(server.url, v.headers, pollId, answersOf(idx));
        if (r.status === 201) {
          acked.set(v.user.id, { receipt: r.receipt!, answers: answersOf(idx) });
          ackedAt.set(v.user.id, performance.now());
          ackedThisRound.push(v.user.id);
        }
        return r;
      });
      await killed;
      const streamMs = performance.now() - roundStart;
      // the server and worker reconnect by themselves: the server answers a read that needs Redis
      const t0 = performance.now();
      await until(async () => (await fetch(`${server.url}/api/polls/${pollId}`, { headers: mod.headers })).status === 200, 30_000, 50);
      const reconnectMs = performance.now() - t0;

      // every 201 so far is in the voter marks and the ledger (with the answers it was given)
      const ledger = await readLedger(ctx, pollId, SHARDS);
      const byHash = new Map(ledger.entries.map((e) => [e.v, e.a]));
      let lost = 0;
      const lostNow: number[] = [];
      for (const [userId, a] of acked) {
        const inLedger = byHash.get(expectedVoterHash(pollId, userId)) === JSON.stringify(a.answers);
        const marked = await ctx.ballots.hasVoted(pollId, userId);
        if (!inLedger || !marked) {
          lost++;
          if (!lostEver.has(userId)) lostNow.push(userId);
          lostEver.add(userId);
        }
      }
      // a ballot this kill lost was acknowledged within the loss window before it (the 201 is read by the
      // client a moment after Redis replied, so the window ends when the kill had landed)
      const outside = lostNow.filter((u) => !(ackedAt.get(u)! >= killStartedAt - EVERYSEC_LOSS_WINDOW_MS && ackedAt.get(u)! <= killDoneAt));
      expect(outside, `round ${round}: acknowledged ballots lost from outside the ${EVERYSEC_LOSS_WINDOW_MS} ms before the kill`).toEqual([]);
      const failed = results.filter((r) => r.status !== 201);
      failedTotal += failed.length;
      const statuses: Record<string, number> = {};
      for (const r of failed) statuses[r.status || 'network'] = (statuses[r.status || 'network'] ?? 0) + 1;
      const integrity = await ctx.ballots.integrity(pollId);
      console.log(
        `[redis kill -9, ${opts.fsync}] round ${round}: ${ackedThisRound.length} acked this round (${acked.size} in all), ${integrity.ballots} in tallies, ${integrity.ledgerLength} in ledger, ${lost} lost; refused while down ${JSON.stringify(statuses)}; server answered again ${reconnectMs.toFixed(0)} ms after restart; stream took ${streamMs.toFixed(0)} ms`,
      );
      if (opts.fsync === 'always') expect(lost, `round ${round}: acknowledged ballots missing after restart`).toBe(0);
      await checkIntegrity(ctx, pollId, `after redis kill round ${round} (${opts.fsync})`);

      // the voters the outage refused try again: 201, or 409 with their original receipt if their ballot had landed
      const retried = await pool(batch.filter((v) => !acked.has(v.user.id)), 12, async (v) => {
        const idx = voters.indexOf(v);
        const r = await castHttp(server.url, v.headers, pollId, answersOf(idx));
        if (r.status === 201) {
          acked.set(v.user.id, { receipt: r.receipt!, answers: answersOf(idx) });
          ackedAt.set(v.user.id, performance.now());
        }
        return { r, v };
      });
      for (const { r, v } of retried) {
        if (r.status === 409 && r.code === 'already_voted') {
          expect(r.receipt).toBe(expectedReceipt(pollId, v.user.id));
          acked.set(v.user.id, { receipt: r.receipt!, answers: answersOf(voters.indexOf(v)) });
          ackedAt.set(v.user.id, performance.now());
        } else if (r.status !== 201 && opts.fsync === 'always') {
          expect.fail(`retry after restart: ${r.status} ${r.code ?? r.error}`);
        }
      }
    }
    for (const [userId, a] of acked) expect(a.receipt).toBe(expectedReceipt(pollId, userId));

    // both processes survived every outage (same pids) and the worker processes jobs again: close the
    // poll through the API -> the worker's finalise job closes, checks integrity and sweeps the points
    expect(server.child.exitCode, `server died:\n${server.output().slice(-3000)}`).toBeNull();
    expect(worker.child.exitCode, `worker died:\n${worker.output().slice(-3000)}`).toBeNull();
    const tClose = performance.now();
    const close = await fetch(`${server.url}/api/polls/${pollId}/close`, { method: 'POST', headers: mod.headers });
    expect(close.status).toBe(200);
    const final = await until(() => ctx!.polls.getFinal(pollId), 60_000, 100);
    expect(final.integrity?.ok).toBe(true);
    console.log(`[redis kill -9, ${opts.fsync}] finalised by the worker ${(performance.now() - tClose).toFixed(0)} ms after the close`);
    const end = await checkIntegrity(ctx, pollId, `final (${opts.fsync})`);
    if (opts.fsync === 'always') expect(end.ballots).toBe(voters.length);
    let awardedOnce = 0;
    for (const v of voters) {
      if (!(await ctx.ballots.hasVoted(pollId, v.user.id))) continue;
      const awards = await ctx.redis.hgetall(ctx.keys.pointsAwards(v.user.id));
      const account = await ctx.redis.hget(ctx.keys.pointsAccount(v.user.id), 'earned');
      expect(awards).toEqual({ [`vote:${pollId}`]: '5' });
      expect(account).toBe('5');
      awardedOnce++;
    }
    console.log(
      `[redis kill -9, ${opts.fsync}] ${opts.rounds} kills: ${acked.size} ballots acknowledged (201, or 409 with the original receipt on retry), ${end.ballots} in the final tallies, ${lostEver.size} acknowledged ballots lost, ${failedTotal} requests refused during outages; finalised by the worker, ${awardedOnce} voters awarded exactly once`,
    );
    return { lostTotal: lostEver.size, acked: acked.size };
  } finally {
    await procs.killAll();
    await ctx?.close().catch(() => {});
    await redis?.destroy();
  }
}

describe('faults: kill -9 of redis-server during a stream of votes', () => {
  it('when Redis (AOF appendfsync always) is killed 10 times mid-stream, then every 201 is in the tallies and the ledger after each restart, and server and worker reconnect by themselves', async () => {
    const out = await killRedisDuringVotes({ label: 'always', fsync: 'always', rounds: 10, perRound: 60, phoneBase: 100_000 });
    expect(out.lostTotal).toBe(0);
  });

  it('when Redis runs with appendfsync everysec and is killed -9 mid-stream, then only ballots acknowledged in the 2 s before a kill can be lost (README "Guarantees")', async () => {
    // the per-round check inside asserts the bound; the count is printed for the README
    const out = await killRedisDuringVotes({ label: 'everysec', fsync: 'everysec', rounds: 3, perRound: 60, phoneBase: 200_000 });
    console.log(`[redis kill -9, everysec] measured loss: ${out.lostTotal} of ${out.acked} acknowledged ballots over 3 kills of the process (bound: those acknowledged in the ${EVERYSEC_LOSS_WINDOW_MS} ms before a kill; an OS crash or power cut can lose that much, a process kill usually nothing)`);
  });
});
