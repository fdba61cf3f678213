import { describe, it, expect, beforeAll, afterAll, afterEach } from 'vitest';
import type { Job } from 'bullmq';
import { freePort } from '../../server/redis/redis-server.ts';
import type { AppContext } from '../../server/context.ts';
import { lifecycleJobId } from '../../shared/jobs.ts';
import { spawnScript, until, type Spawned } from '../helpers/processes.ts';
import {
  faultRedis,
  faultContext,
  processRegistry,
  processEnv,
  spawnServer,
  kill9,
  makeVoters,
  makeStaff,
  publishViaApi,
  castHttp,
  checkIntegrity,
  expectVoteAwardedOnce,
  queueCounts,
  queueSettled,
  pool,
  sleep,
  type FaultRedis,
} from '../helpers/faults.ts';

const POINTS = 5;
const SHUTDOWN_TIMEOUT_MS = 5_000; // processEnv's SHUTDOWN_TIMEOUT_MS
const answersOf = (i: number) => ({ q1: [['o1', 'o2', 'o3'][i % 3]], q2: [['o1', 'o2', 'o3', 'o4'][i % 4]] });
type Voter = Awaited<ReturnType<typeof makeVoters>>[number];

describe('faults: kill -9 and SIGTERM of the worker in the middle of jobs (real worker processes)', () => {
  const procs = processRegistry();
  let redis: FaultRedis;
  let ctx: AppContext;
  let env: Record<string, string | undefined>;
  let url: string;
  let mod: Awaited<ReturnType<typeof makeStaff>>;
  let voters: Voter[];

  beforeAll(async () => {
    redis = await faultRedis('worker-kill', 'always');
    const prefix = 'f:worker-kill:';
    ctx = faultContext(redis.url, prefix);
    // 8 jobs at once (not the default 64): the kills must land while a backlog is still waiting and jobs are
    // active; at 64 a new worker drained a 200-job burst before the mid-drain kill could see both (CI run)
    env = processEnv(redis.url, prefix, { WORKER_CONCURRENCY: '8' });
    url = procs.add(await spawnServer(env, await freePort())).url;
    mod = await makeStaff(ctx, '+79990888888', ['moderator']);
    voters = await makeVoters(ctx, 900, 400_000); // < 1,000: the points queue keeps the newest 1,000 completed jobs
  });
  // a failed test must not leave its worker running into the next one
  let workers: Spawned[] = [];
  afterEach(async () => {
    await Promise.all(workers.map((w) => kill9(w)));
    workers = [];
  });
  afterAll(async () => {
    await procs.killAll();
    await ctx?.close().catch(() => {});
    await redis?.destroy();
  });

  /** A worker process, registered for cleanup; `ready` resolves once its BullMQ workers run. */
  const startWorker = (extra: Record<string, string> = {}) => {
    const p = procs.add(spawnScript('server/worker.ts', [], { ...env, ...extra }));
    workers.push(p);
    const ready = p.waitFor(/workers started/, 60_000);
    ready.catch(() => {}); // a worker killed before it is ready: only awaited where it must start
    return Object.assign(p, { ready });
  };
  /** Ballots over HTTP (each shard's first one opens an award batch); every one must be 201. */
  const castAll = async (pollId: number, batch: Voter[]) => {
    const out = await pool(batch, 16, (v, i) => castHttp(url, v.headers, pollId, answersOf(i)));
    expect(out.filter((r) => r.status !== 201).map((r) => `${r.status} ${r.code ?? r.error}`)).toEqual([]);
  };
  /** Where a poll's voters are in the award path: awarded (marker made), pending (queued), taken (a step under way). */
  const awardState = async (pollId: number, batch: Voter[]) => {
    const shards = (await ctx.polls.get(pollId))!.shards;
    const [marks, pending, taken] = await Promise.all([
      Promise.all(batch.map((v) => ctx.redis.hexists(ctx.keys.pointsAwards(v.user.id), `vote:${pollId}`))),
      Promise.all(Array.from({ length: shards }, (_, k) => ctx.redis.scard(ctx.keys.pollAwardPending(pollId, k)))),
      Promise.all(Array.from({ length: shards }, (_, k) => ctx.redis.zcard(ctx.keys.pollAwardTaken(pollId, k)))),
    ]);
    return { awarded: marks.filter(Boolean).length, pending: pending.reduce((a, b) => a + b, 0), taken: taken.reduce((a, b) => a + b, 0) };
  };
  /** Poll the award state until `cond` holds (tight: the kill must land while steps run). */
  const whenAwards = async (pollId: number, batch: Voter[], cond: (a: Awaited<ReturnType<typeof awardState>>) => boolean, ms = 30_000) => {
    const t0 = performance.now();
    for (;;) {
      const a = await awardState(pollId, batch);
      if (cond(a)) return a;
      if (performance.now() - t0 > ms) throw new Error(`award state never reached the condition: ${JSON.stringify(a)}`);
      await sleep(2);
    }
  };
  /**
   * Send `signal` to the worker while an award step has voters taken and not yet marked done: freeze it
   * (SIGSTOP) when a step is seen under way, check that it still is, then signal (else let it go on, retry).
   */
  const signalMidStep = async (w: Spawned, pollId: number, batch: Voter[], signal: 'SIGKILL' | 'SIGTERM', cond: (a: Awaited<ReturnType<typeof awardState>>) => boolean) => {
    const t0 = performance.now();
    for (;;) {
      const a = await awardState(pollId, batch);
      if (a.taken > 0 && cond(a)) {
        w.child.kill('SIGSTOP');
        // commands the worker had already sent still run in Redis: judge the state once they have landed
        await sleep(20);
        const frozen = await awardState(pollId, batch);
        if (frozen.taken > 0 && cond(frozen)) {
          w.child.kill(signal);
          if (signal !== 'SIGKILL') w.child.kill('SIGCONT');
          return frozen;
        }
        w.child.kill('SIGCONT');
      }
      if (performance.now() - t0 > 30_000) throw new Error(`no award step under way to ${signal}: ${JSON.stringify(a)}`);
      await sleep(1);
    }
  };
  /**
   * Award steps of 5 voters for the mid-step signals: at the default size one pipelined step takes a whole
   * 200-ballot burst and lands within the 1 ms polling gap under a loaded CI machine, so no step is ever
   * seen under way; at 5 a drain is dozens of steps and one is almost always in flight.
   */
  const SMALL_STEPS = { AWARD_BATCH_SIZE: '5' };
  /** The poll's award batch jobs (no voter in them), by state. */
  const batchJobs = async (pollId: number) => {
    const jobs = (await ctx.queues.points.getJobs(['completed', 'failed', 'active', 'waiting', 'delayed', 'prioritized'], 0, -1)).filter((j) => j?.name === 'award-batch' && j.data.pollId === pollId);
    return Promise.all(jobs.map(async (j) => ({ job: j, state: await j.getState() })));
  };
  /**
   * Every voter of the batch awarded through the queue: nothing pending or taken, every batch job of the
   * poll completed (none lost or failed); how many batch jobs re-ran after a stall, and how many voters a
   * step found already awarded (a killed step's, re-taken).
   */
  const expectAwardJobsDone = async (pollId: number, batch: Voter[]) => {
    const a = await awardState(pollId, batch);
    expect({ pending: a.pending, taken: a.taken }, 'voters left in the award queue').toEqual({ pending: 0, taken: 0 });
    const jobs = await batchJobs(pollId);
    expect(jobs.length).toBeGreaterThan(0);
    const notDone = jobs.filter((j) => j.state !== 'completed');
    expect(notDone.length, `award batch jobs not completed: ${JSON.stringify(notDone.slice(0, 5).map((j) => [j.job.id, j.state, j.job.failedReason]))}`).toBe(0);
    return {
      jobs: jobs.length,
      stalledReRuns: jobs.filter((j) => (j.job.stalledCounter ?? 0) > 0).length,
      foundMarker: jobs.reduce((n, j) => n + ((j.job.returnvalue as { voters: number; awarded: number }).voters - (j.job.returnvalue as { awarded: number }).awarded), 0),
    };
  };

  it('when the worker is killed -9 mid-step of an award batch while ballots arrive, and again mid-drain, 3 rounds, then a new worker drains the award queue (nothing pending or taken, no job failed) within 30 s and every voter is awarded exactly once', async () => {
    const pollId = await publishViaApi(url, mod.headers, { shards: 2, points: POINTS });
    const ROUNDS = 3;
    const N = 200;
    let w = startWorker(SMALL_STEPS);
    await w.ready;
    for (let round = 1; round <= ROUNDS; round++) {
      const batch = voters.slice((round - 1) * N, round * N);
      // 1. kill -9 while the ballots of the burst are still arriving and a step has voters taken
      const firstKill = signalMidStep(w, pollId, batch, 'SIGKILL', (a) => a.awarded >= N * 0.1 && a.awarded < N);
      const tBurst = performance.now();
      await castAll(pollId, batch);
      const atKill1 = await firstKill;
      await w.exited;
      const burstMs = performance.now() - tBurst;
      const afterKill1 = await awardState(pollId, batch);
      expect(afterKill1.taken, 'the killed step left its voters taken').toBeGreaterThan(0);
      expect(afterKill1.awarded).toBeLessThan(N);

      // 2. a new worker re-runs the stalled batch (it takes the killed step's voters back); kill -9 it mid-step too
      const x = startWorker(SMALL_STEPS);
      const atKill2 = await signalMidStep(x, pollId, batch, 'SIGKILL', (a) => a.awarded > afterKill1.awarded);
      await x.exited;

      // 3. a third worker: the stalled batch re-runs again and drains the rest
      const tRecover = performance.now();
      w = startWorker(SMALL_STEPS);
      await whenAwards(pollId, batch, (a) => a.awarded === N && a.pending === 0 && a.taken === 0, 30_000);
      const settled = await queueSettled(ctx, 'points', 30_000);
      const recoverMs = performance.now() - tRecover;
      expect(settled.counts.failed).toBe(0);
      const delayed = await ctx.queues.points.getDelayed();
      expect(delayed.map((j) => j.name).filter((n) => n !== 'reconcile-redemptions' && n !== 'award-sweep')).toEqual([]);
      const done = await expectAwardJobsDone(pollId, batch);
      expect(done.stalledReRuns, 'batch jobs of a killed worker were re-run').toBeGreaterThan(0);
      await expectVoteAwardedOnce(ctx, pollId, voters.slice(0, round * N).map((v) => v.user.id), POINTS, `worker kill round ${round}`);
      await checkIntegrity(ctx, pollId, `after worker kills round ${round}`, round * N);
      console.log(
        `[worker kill -9] round ${round}: ${N} ballots in ${burstMs.toFixed(0)} ms; kill #1 mid-step at ${atKill1.awarded} awards made with ${atKill1.taken} voters taken, left ${afterKill1.taken} taken + ${afterKill1.pending} pending; kill #2 mid-step at ${atKill2.awarded} awards with ${atKill2.taken} taken + ${atKill2.pending} pending; third worker drained the award queue ${recoverMs.toFixed(0)} ms after its spawn; ${done.jobs} batch jobs, ${done.stalledReRuns} re-run after a stall, ${done.foundMarker} re-taken voters found their award already made; ${round * N} voters awarded exactly once`,
      );
    }
    await kill9(w);
  });

  it('when the worker gets SIGTERM mid-step of an award batch, then it finishes the batch in hand and exits 0 within the shutdown timeout, leaves nothing taken, and every voter is awarded exactly once with no re-run', async () => {
    const pollId = await publishViaApi(url, mod.headers, { shards: 3, points: POINTS });
    const batch = voters.slice(600, 900);
    await castAll(pollId, batch); // no worker runs: voters pending, one batch job per shard
    const w = startWorker(SMALL_STEPS);
    const t0 = performance.now();
    const atTerm = await signalMidStep(w, pollId, batch, 'SIGTERM', (a) => a.awarded >= batch.length * 0.3);
    const exit = await w.exited;
    const stopMs = performance.now() - t0;
    expect(exit, w.output().slice(-2000)).toEqual({ code: 0, signal: null });
    expect(stopMs).toBeLessThan(SHUTDOWN_TIMEOUT_MS + 2_000);
    expect(w.output()).toMatch(/worker stopped/);
    const afterTerm = await awardState(pollId, batch);
    expect((await queueCounts(ctx, 'points')).active, 'a stopped worker leaves no job active').toBe(0);
    expect(afterTerm.taken, 'a stopped worker leaves no step half done').toBe(0);

    const t1 = performance.now();
    const next = startWorker();
    await whenAwards(pollId, batch, (a) => a.awarded === batch.length && a.pending === 0, 30_000);
    const settled = await queueSettled(ctx, 'points', 30_000);
    const drainMs = performance.now() - t1;
    expect(settled.counts.failed).toBe(0);
    const done = await expectAwardJobsDone(pollId, batch);
    expect(done.stalledReRuns, 'nothing was abandoned by the SIGTERM: no job re-ran after a stall').toBe(0);
    expect(done.foundMarker).toBe(0);
    await expectVoteAwardedOnce(ctx, pollId, batch.map((v) => v.user.id), POINTS, 'after SIGTERM');
    await checkIntegrity(ctx, pollId, 'after worker SIGTERM mid-drain', batch.length);
    // an idle worker stops cleanly too
    await next.ready;
    next.child.kill('SIGTERM');
    expect(await next.exited).toEqual({ code: 0, signal: null });
    console.log(
      `[worker SIGTERM] mid-step at ${atTerm.awarded}/${batch.length} awards made (${atTerm.taken} taken, ${atTerm.pending} pending): exit 0 after ${stopMs.toFixed(0)} ms (timeout ${SHUTDOWN_TIMEOUT_MS} ms), left ${afterTerm.taken} taken + ${afterTerm.pending} pending; new worker drained in ${drainMs.toFixed(0)} ms, 0 stalled re-runs, ${batch.length} voters awarded exactly once`,
    );
  });

  it('when SIGTERM arrives while the worker is still starting up but already running jobs, then it still finishes them and exits 0 (no job abandoned)', async () => {
    const pollId = await publishViaApi(url, mod.headers, { shards: 1, points: POINTS });
    const batch = voters.slice(0, 300);
    await castAll(pollId, batch);
    const w = startWorker();
    await until(async () => (await batchJobs(pollId)).some((j) => j.state === 'active'), 30_000, 2);
    const startedBefore = /workers started/.test(w.output());
    const t0 = performance.now();
    w.child.kill('SIGTERM');
    const exit = await w.exited;
    const stopMs = performance.now() - t0;
    expect(exit, w.output().slice(-2000)).toEqual({ code: 0, signal: null });
    expect(stopMs).toBeLessThan(SHUTDOWN_TIMEOUT_MS);
    const afterTerm = await queueCounts(ctx, 'points');
    expect(afterTerm.active, 'a stopped worker leaves no job active').toBe(0);
    startWorker();
    await whenAwards(pollId, batch, (a) => a.awarded === batch.length && a.pending === 0 && a.taken === 0, 30_000);
    await queueSettled(ctx, 'points', 30_000);
    const done = await expectAwardJobsDone(pollId, batch);
    expect(done.stalledReRuns, 'no job was abandoned to a stall').toBe(0);
    await expectVoteAwardedOnce(ctx, pollId, batch.map((v) => v.user.id), POINTS, 'after SIGTERM at start-up');
    console.log(
      `[worker SIGTERM at start-up] SIGTERM with ${afterTerm.waiting} jobs still waiting, ${startedBefore ? 'after' : 'before'} the worker logged "workers started": exit 0 after ${stopMs.toFixed(0)} ms, 0 active left, 0 stalled re-runs; ${batch.length} voters awarded exactly once`,
    );
  });

  /** A closed poll with `n` ballots, their voters pending award and the batch jobs waiting, and its finalise job queued; no worker runs. */
  const closedPollWithBacklog = async (batch: Voter[], shards: number) => {
    const pollId = await publishViaApi(url, mod.headers, { shards, points: POINTS });
    await castAll(pollId, batch);
    const close = await fetch(`${url}/api/polls/${pollId}/close`, { method: 'POST', headers: mod.headers });
    expect(close.status).toBe(200);
    const fin = await ctx.queues.lifecycle.getJob(lifecycleJobId('finalise', pollId));
    expect(await fin?.getState()).toBe('waiting');
    return pollId;
  };
  /**
   * Spin on the finalise job until it is active (the worker took it) — and, with `midSweep`, until it has
   * reported sweep progress (some shards' voters awarded, not all) — then act at once.
   */
  const whenFinaliseActive = async (pollId: number, act: () => void, midSweep = false) => {
    const id = lifecycleJobId('finalise', pollId);
    const key = ctx.queues.lifecycle.toKey(id);
    const t0 = performance.now();
    for (;;) {
      const [state, [progress, finishedOn]] = await Promise.all([ctx.queues.lifecycle.getJobState(id), ctx.redis.hmget(key, 'progress', 'finishedOn')]);
      const swept = progress ? (JSON.parse(progress) as { swept?: number }).swept ?? 0 : 0;
      if (state === 'active' && !finishedOn && (!midSweep || swept > 0)) {
        act();
        return { at: Date.now(), state, swept };
      }
      if (state === 'completed' || state === 'failed' || performance.now() - t0 > 30_000) return { at: Date.now(), state, swept };
    }
  };

  it.each([
    { phase: 'as it takes the job', midSweep: false, shards: 4 },
    { phase: 'mid-sweep (some shards awarded)', midSweep: true, shards: 8 },
  ])('when the worker is killed -9 while it finalises a poll ($phase; the sweep racing the award jobs), then a new worker re-runs the finalisation: one snapshot with integrity ok, every voter awarded exactly once, queues settled', async ({ phase, midSweep, shards }) => {
    const batch = voters.slice(0, 900);
    const pollId = await closedPollWithBacklog(batch, shards);
    const w = startWorker();
    const seen = await whenFinaliseActive(pollId, () => w.child.kill('SIGKILL'), midSweep);
    expect(seen.state, 'the kill landed while finalise was active').toBe('active');
    await w.exited;
    const snapshotAtKill = (await ctx.polls.getFinal(pollId)) !== null;
    const awardedAtKill = (await Promise.all(batch.map((v) => ctx.redis.hexists(ctx.keys.pointsAwards(v.user.id), `vote:${pollId}`)))).filter(Boolean).length;
    const lifeAtKill = await queueCounts(ctx, 'lifecycle');
    const pointsAtKill = await queueCounts(ctx, 'points');

    const t0 = performance.now();
    const next = startWorker();
    const final = await until(() => ctx.polls.getFinal(pollId), 30_000, 50);
    const life = await queueSettled(ctx, 'lifecycle', 30_000);
    const points = await queueSettled(ctx, 'points', 30_000);
    await whenAwards(pollId, batch, (a) => a.pending === 0 && a.taken === 0, 30_000);
    const recoverMs = performance.now() - t0;
    expect(final.integrity).toEqual({ votersMarked: batch.length, ledgerLength: batch.length, ballots: batch.length, ok: true });
    expect(final.results.ballots).toBe(batch.length);
    expect((await ctx.polls.get(pollId))!.status).toBe('finalised');
    expect(life.counts.failed).toBe(0);
    expect(points.counts.failed).toBe(0);
    const fin = (await ctx.queues.lifecycle.getJob(lifecycleJobId('finalise', pollId)))!;
    expect(await fin.getState()).toBe('completed');
    if (!fin.finishedOn || fin.finishedOn > seen.at) expect(fin.stalledCounter, 'finalise re-ran after the stall').toBeGreaterThanOrEqual(1);
    const done = await expectAwardJobsDone(pollId, batch);
    await expectVoteAwardedOnce(ctx, pollId, batch.map((v) => v.user.id), POINTS, `after kill -9 mid-finalise ${phase}`);
    await checkIntegrity(ctx, pollId, `after worker kill mid-finalise ${phase}`, batch.length);
    const ret = fin.returnvalue as { swept: number; awarded: number; already: boolean };
    console.log(
      `[worker kill -9 mid-finalise] ${phase}, ${batch.length} voters in ${shards} shards: killed with finalise active (sweep progress ${seen.swept}, snapshot written: ${snapshotAtKill}), ${awardedAtKill} awards made, lifecycle ${lifeAtKill.active} active / points ${pointsAtKill.active} active + ${pointsAtKill.waiting} waiting left; new worker finalised and settled both queues in ${recoverMs.toFixed(0)} ms (finalise stalled ${fin.stalledCounter}x, re-run swept ${ret.swept}, awarded ${ret.awarded}, already ${ret.already}); ${done.jobs} batch jobs, ${done.stalledReRuns} re-run after a stall, ${done.foundMarker} voters they took found the award already made (by the sweep or a killed run); every voter awarded exactly once`,
    );
    await kill9(next);
  });

  it('when the worker gets SIGTERM while it finalises a poll, then it completes the finalisation before exiting 0 within the shutdown timeout, and nothing is re-run', async () => {
    const batch = voters.slice(0, 900);
    const pollId = await closedPollWithBacklog(batch, 4);
    const w = startWorker();
    let t0 = 0;
    const seen = await whenFinaliseActive(pollId, () => {
      t0 = performance.now();
      w.child.kill('SIGTERM');
    });
    expect(seen.state, 'SIGTERM landed while finalise was active').toBe('active');
    const exit = await w.exited;
    const stopMs = performance.now() - t0;
    expect(exit, w.output().slice(-2000)).toEqual({ code: 0, signal: null });
    expect(stopMs).toBeLessThan(SHUTDOWN_TIMEOUT_MS);
    // the job in hand was finished by the stopping worker, not abandoned to a stall
    const fin = (await ctx.queues.lifecycle.getJob(lifecycleJobId('finalise', pollId)))!;
    expect(await fin.getState()).toBe('completed');
    expect(fin.stalledCounter).toBe(0);
    const final = await ctx.polls.getFinal(pollId);
    expect(final?.integrity?.ok).toBe(true);
    expect((await queueCounts(ctx, 'lifecycle')).active).toBe(0);
    const pointsAtExit = await queueCounts(ctx, 'points');
    expect(pointsAtExit.active).toBe(0);

    const next = startWorker();
    const points = await queueSettled(ctx, 'points', 30_000);
    await whenAwards(pollId, batch, (a) => a.pending === 0 && a.taken === 0, 30_000);
    expect(points.counts.failed).toBe(0);
    const done = await expectAwardJobsDone(pollId, batch);
    expect(done.stalledReRuns).toBe(0);
    await expectVoteAwardedOnce(ctx, pollId, batch.map((v) => v.user.id), POINTS, 'after SIGTERM mid-finalise');
    await checkIntegrity(ctx, pollId, 'after worker SIGTERM mid-finalise', batch.length);
    const ret = fin.returnvalue as { swept: number; awarded: number };
    console.log(
      `[worker SIGTERM mid-finalise] ${batch.length} voters: exit 0 ${stopMs.toFixed(0)} ms after SIGTERM with the finalisation completed by the stopping worker (swept ${ret.swept}, awarded ${ret.awarded}), ${pointsAtExit.waiting} award batch jobs left waiting and drained by the next worker (${done.foundMarker} voters found the sweep's award), 0 stalled re-runs; every voter awarded exactly once`,
    );
    await next.ready;
    await kill9(next);
  });
});
