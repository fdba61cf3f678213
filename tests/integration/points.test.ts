import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { testServer, testContext, testLogger } from '../helpers/context.ts';
import { createTestUser } from '../helpers/users.ts';
import { connectSocket, record, nextEvent, type ClientSocket } from '../helpers/sockets.ts';
import { publishedPoll } from '../helpers/polls.ts';
import { childEnv, spawnScript, until, type Spawned } from '../helpers/processes.ts';
import { startWorkers, type RunningWorker } from '../../server/worker.ts';
import type { RunningServer } from '../../server/main.ts';
import type { AppContext } from '../../server/context.ts';
import { awardBatchJobId, lifecycleJobId } from '../../shared/jobs.ts';
import type { User } from '../../shared/users.ts';

type S = RunningServer & { url: string };
const ballot = { answers: { q1: ['o1'], q2: ['o2'] } };

describe('participation points: idempotent awards, balance, level, ledger', () => {
  let s: S;
  let mod: User;
  let w: RunningWorker;
  const sockets: ClientSocket[] = [];

  beforeAll(async () => {
    s = await testServer();
    mod = (await createTestUser(s.ctx, { roles: ['moderator'] })).user;
    w = await startWorkers({ ...s.ctx.config }, testLogger);
  });
  afterAll(async () => {
    for (const x of sockets) x.close();
    await w?.close();
    await s?.close();
  });

  it('when the same award is made 50 times at once, then it is credited once with one ledger entry', async () => {
    const { user } = await createTestUser(s.ctx);
    const outs = await Promise.all(Array.from({ length: 50 }, () => s.ctx.points.award(user.id, 'vote', '4242', 20)));
    expect(outs.filter((o) => o.created)).toHaveLength(1);
    expect(outs.every((o) => o.balance === 20)).toBe(true);
    const mine = await s.ctx.points.mine(user.id, 100);
    expect(mine).toMatchObject({ balance: 20, earned: 20, level: 'newcomer', activeCitizen: false, nextLevelAt: 100 });
    expect(mine.ledger).toEqual([{ at: expect.any(String), delta: 20, reason: 'vote', ref: '4242', balance: 20 }]);
  });

  it('when points add up, then the level rises and the "Active Citizen" status arrives at 1,000 earned (GET /api/me/points)', async () => {
    const u = await createTestUser(s.ctx);
    const get = async () => (await (await fetch(`${s.url}/api/me/points?limit=100`, { headers: u.headers })).json()) as any;
    const steps: [number, string, boolean, number | null][] = [];
    for (let i = 1; i <= 50; i++) {
      await s.ctx.points.award(u.user.id, 'vote', String(i), 20);
      if ([4, 5, 24, 25, 49, 50].includes(i)) {
        const p = await get();
        steps.push([p.balance, p.level, p.activeCitizen, p.nextLevelAt]);
      }
    }
    expect(steps).toEqual([
      [80, 'newcomer', false, 100],
      [100, 'participant', false, 500],
      [480, 'participant', false, 500],
      [500, 'activist', false, 1000],
      [980, 'activist', false, 1000],
      [1000, 'active_citizen', true, null],
    ]);
    const p = await get();
    expect(p.ledger).toHaveLength(50);
    expect(p.ledger[0]).toMatchObject({ delta: 20, reason: 'vote', ref: '50', balance: 1000 });
    expect(p.ledger[49]).toMatchObject({ ref: '1', balance: 20 });
  });

  it('when /api/me/points is asked without a session or with a bad limit, then 401 / 400 invalid_query', async () => {
    const anon = await fetch(`${s.url}/api/me/points`);
    expect(anon.status).toBe(401);
    const u = await createTestUser(s.ctx);
    for (const q of ['limit=0', 'limit=abc', 'limit=100000', 'foo=1']) {
      const r = await fetch(`${s.url}/api/me/points?${q}`, { headers: u.headers });
      expect(r.status, q).toBe(400);
      expect(((await r.json()) as any).error.code).toBe('invalid_query');
    }
  });

  it('when a ballot is accepted, then the shard\'s award batch awards the poll\'s points once and pushes the new balance to the voter\'s socket; a re-run batch and a duplicate award job award and push nothing', async () => {
    const poll = await publishedPoll(s.ctx, mod, { points: 20 });
    const voter = await createTestUser(s.ctx);
    const sock = await connectSocket(s.url, { cookie: voter.cookie });
    sockets.push(sock);
    const frames = record(sock, 'points');
    const first = nextEvent(sock, 'points');
    const r = await fetch(`${s.url}/api/polls/${poll.id}/ballots`, { method: 'POST', headers: voter.headers, body: JSON.stringify(ballot) });
    expect(r.status).toBe(201);
    expect(await first).toEqual({ balance: 20, delta: 20, reason: 'vote', level: 'newcomer' });
    // the ballot opened batch 1 of the poll's only shard: a job with no voter in it
    const batch = { pollId: poll.id, shard: 0, batch: 1 };
    const job = await until(async () => {
      const j = await s.ctx.queues.points.getJob(awardBatchJobId(batch));
      return j?.finishedOn ? j : null;
    });
    expect(job.data).toEqual(batch);
    expect(job.returnvalue).toMatchObject({ voters: 1, awarded: 1 });
    // the ledger time is the batch step's time
    expect(Date.parse((await s.ctx.points.mine(voter.user.id, 1)).ledger[0].at)).toBe(job.returnvalue.steps[0].at);
    // the same batch again under another number (the set is empty: nothing taken), and the voter's award as a single job
    const dup = await s.ctx.queues.points.add('award-batch', { ...batch, batch: 99 }, { jobId: awardBatchJobId({ ...batch, batch: 99 }) });
    const single = await s.ctx.queues.points.add('award', { userId: voter.user.id, reason: 'vote', ref: String(poll.id), points: 20 }, { jobId: 'single-dup' });
    for (const id of [dup.id!, single.id!]) await until(async () => (await s.ctx.queues.points.getJob(id))?.finishedOn);
    expect((await s.ctx.queues.points.getJob(dup.id!))?.returnvalue).toMatchObject({ voters: 0, awarded: 0 });
    expect((await s.ctx.queues.points.getJob(single.id!))?.returnvalue).toMatchObject({ awarded: false });
    // a later, different award proves the socket was listening all along and got exactly one frame before
    const next = nextEvent(sock, 'points');
    await s.ctx.points.award(voter.user.id, 'profile', 'profile', 50);
    expect((await next).balance).toBe(70);
    expect(frames.map((f) => f.frame.delta)).toEqual([20, 50]);
    expect((await s.ctx.points.mine(voter.user.id, 10)).balance).toBe(70);
  });

  it('when an award batch job is malformed or names an unknown poll or shard, then it fails for good without retries', async () => {
    const poll = await publishedPoll(s.ctx, mod, { points: 20 });
    const bad: [string, unknown][] = [
      ['bad-batch-1', { pollId: 'x', shard: 0, batch: 1 }],
      ['bad-batch-2', { pollId: poll.id, shard: 0, batch: 1, userId: 7 }],
      ['bad-batch-3', { pollId: 99999999, shard: 0, batch: 1 }],
      ['bad-batch-4', { pollId: poll.id, shard: 5, batch: 1 }],
    ];
    for (const [id, data] of bad) await s.ctx.queues.points.add('award-batch', data as any, { jobId: id });
    for (const [id] of bad) {
      await until(async () => (await s.ctx.queues.points.getJob(id))?.finishedOn);
      const job = (await s.ctx.queues.points.getJob(id))!;
      expect(await job.getState(), id).toBe('failed');
      expect(job.attemptsMade, id).toBe(1);
    }
    expect((await s.ctx.queues.points.getJob('bad-batch-2'))!.failedReason).toMatch(/invalid points\/award-batch job data/);
    expect((await s.ctx.queues.points.getJob('bad-batch-4'))!.failedReason).toMatch(/shard 5 of a 1-shard poll/);
  });

  it('when an award job is malformed or names a ballot that does not exist, then it fails for good without retries and nothing is credited', async () => {
    const poll = await publishedPoll(s.ctx, mod, { points: 20 });
    const { user } = await createTestUser(s.ctx, { profile: null });
    const bad: [string, unknown][] = [
      ['bad-1', { userId: 'x', reason: 'vote', ref: '1', points: 1 }],
      ['bad-2', { userId: user.id, reason: 'bribe', ref: '1', points: 1 }],
      ['bad-3', { userId: user.id, reason: 'vote', ref: '1', points: 1e9 }],
      ['bad-4', null],
      ['no-ballot', { userId: user.id, reason: 'vote', ref: String(poll.id), points: 20 }],
      ['no-poll', { userId: user.id, reason: 'vote', ref: '99999999', points: 20 }],
      ['no-profile', { userId: user.id, reason: 'profile', ref: 'profile', points: 100 }],
    ];
    for (const [id, data] of bad) await s.ctx.queues.points.add('award', data as any, { jobId: id });
    const odd = await s.ctx.queues.points.add('mint-points', { userId: user.id }, { jobId: 'unknown-name' });
    for (const id of [...bad.map(([i]) => i), odd.id!]) {
      await until(async () => (await s.ctx.queues.points.getJob(id))?.finishedOn);
      const job = (await s.ctx.queues.points.getJob(id))!;
      expect(await job.getState(), id).toBe('failed');
      expect(job.attemptsMade, id).toBe(1);
    }
    expect((await s.ctx.queues.points.getJob('bad-1'))!.failedReason).toMatch(/invalid points\/award job data: userId/);
    expect((await s.ctx.queues.points.getJob('no-ballot'))!.failedReason).toMatch(/has no ballot/);
    expect(await s.ctx.points.mine(user.id, 10)).toMatchObject({ balance: 0, earned: 0, ledger: [] });
  });
});

describe('points survive kill -9 of a real worker process mid-batch', () => {
  let ctx: AppContext;
  const procs: Spawned[] = [];
  const workerEnv = (extra: Record<string, string>) => childEnv(ctx.config, { WORKER_STALLED_INTERVAL_MS: '1000', WORKER_CONCURRENCY: '16', ...extra });
  const spawnWorker = async (extra: Record<string, string> = {}) => {
    const p = spawnScript('server/worker.ts', [], workerEnv(extra));
    procs.push(p);
    await p.waitFor(/workers started/);
    return p;
  };

  beforeAll(async () => {
    ctx = testContext();
  });
  afterAll(async () => {
    for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
    await ctx?.close();
  });

  it('when the worker is killed -9 mid-batch (some voters taken, not yet marked) and restarted, with one batch job lost and 10 voters per poll dropped from the queue, then every voter has exactly one award per poll and points == 20 × ballots', async () => {
    const VOTERS = 300;
    const POLLS = 3;
    const SHARDS = 2;
    const { user: moderator } = await ctx.users.getOrCreateByPhone('+79990000001', ['moderator']);
    const polls: Awaited<ReturnType<typeof publishedPoll>>[] = [];
    for (let i = 0; i < POLLS; i++) polls.push(await publishedPoll(ctx, moderator, { points: 20, shards: SHARDS }));
    const voters: User[] = [];
    for (let i = 0; i < VOTERS; i++) voters.push((await ctx.users.getOrCreateByPhone(`+7991${String(i).padStart(7, '0')}`)).user);
    // every voter votes in every poll with no worker running: one batch job per poll shard, voters pending
    for (const poll of polls) {
      for (let i = 0; i < voters.length; i += 100) await Promise.all(voters.slice(i, i + 100).map((u) => ctx.ballots.cast(poll.id, u, ballot)));
    }
    const q = ctx.queues.points;
    const batchIds = polls.flatMap((p) => Array.from({ length: SHARDS }, (_, k) => awardBatchJobId({ pollId: p.id, shard: k, batch: 1 })));
    await until(async () => (await Promise.all(batchIds.map((id) => q.getJob(id)))).every(Boolean));
    const pendingOf = (pollId: number) => Promise.all(Array.from({ length: SHARDS }, (_, k) => ctx.redis.scard(ctx.keys.pollAwardPending(pollId, k))));
    expect((await pendingOf(polls[0].id)).reduce((a, b) => a + b)).toBe(VOTERS);
    // a lost enqueue (the server died right after the ballot): only the award-sweep safety net drains that shard
    await (await q.getJob(awardBatchJobId({ pollId: polls[2].id, shard: 1, batch: 1 })))!.remove();
    // voters missing from every queue (beyond any crash the batches cover): the finalise sweep is the last net
    const lost = new Map<number, number[]>();
    for (const poll of polls) {
      const ids = voters.slice(200, 210).map((u) => u.id);
      lost.set(poll.id, ids);
      for (const uid of ids) await ctx.redis.srem(ctx.keys.pollAwardPending(poll.id, uid % SHARDS), String(uid));
    }

    // 10 voters per step: a batch takes many steps; freeze the worker while a step has voters taken, then kill it
    const w1 = await spawnWorker({ AWARD_BATCH_SIZE: '10' });
    const takenNow = async () => (await Promise.all(polls.flatMap((p) => Array.from({ length: SHARDS }, (_, k) => ctx.redis.zcard(ctx.keys.pollAwardTaken(p.id, k)))))).reduce((a, b) => a + b);
    let atKill = { taken: 0, awarded: 0 };
    await until(async () => {
      if (!(await takenNow())) return false;
      w1.child.kill('SIGSTOP');
      const taken = await takenNow();
      if (!taken) {
        w1.child.kill('SIGCONT');
        return false;
      }
      atKill = { taken, awarded: (await Promise.all(voters.map((u) => ctx.points.hasAward(u.id, 'vote', String(polls[0].id))))).filter(Boolean).length };
      return true;
    }, 30_000, 2);
    w1.child.kill('SIGKILL');
    await w1.exited;
    console.log(`[kill -9 mid-batch] worker killed with ${atKill.taken} voters taken by a step not yet marked done; ${atKill.awarded}/${VOTERS} voters of poll 1 awarded`);
    expect(atKill.taken).toBeGreaterThan(0);

    const t0 = Date.now();
    await spawnWorker({ AWARD_SWEEP_EVERY_MS: '1000' });
    const started = Date.now() - t0;
    // every voter still queued is awarded: the stalled batch re-runs and takes back its voters, the sweep drains the lost job's shard
    const awardedAll = async (poll: { id: number }) => {
      const missing = voters.filter((u) => !lost.get(poll.id)!.includes(u.id));
      return (await Promise.all(missing.map((u) => ctx.points.hasAward(u.id, 'vote', String(poll.id))))).every(Boolean);
    };
    await until(async () => (await Promise.all(polls.map(awardedAll))).every(Boolean), 60_000, 200);
    await until(async () => (await takenNow()) === 0 && (await Promise.all(polls.map((p) => pendingOf(p.id)))).flat().every((n) => n === 0), 30_000, 100);
    console.log(`[kill -9 mid-batch] restarted worker up in ${started} ms, every queued voter awarded ${Date.now() - t0 - started} ms later (stalled batch re-run, lost job drained by the award sweep)`);
    expect((await q.getFailed()).filter((j) => j.name.startsWith('award')).map((j) => j.failedReason)).toEqual([]);

    // closing finalises: the sweep awards the 10 dropped voters per poll, nothing else
    for (const poll of polls) await ctx.polls.closeNow(poll.id);
    for (const poll of polls) {
      await until(async () => (await ctx.polls.getFinal(poll.id)) !== null, 30_000, 100);
      const job = await until(async () => {
        const j = await ctx.queues.lifecycle.getJob(lifecycleJobId('finalise', poll.id));
        return j?.finishedOn ? j : null;
      });
      expect(job!.returnvalue).toMatchObject({ ballots: VOTERS, swept: VOTERS, awarded: lost.get(poll.id)!.length });
    }

    let total = 0;
    for (const u of voters) {
      const mine = await ctx.points.mine(u.id, 100);
      expect(mine.balance, `user ${u.id}`).toBe(20 * POLLS);
      const votes = mine.ledger.filter((e) => e.reason === 'vote').map((e) => e.ref).sort();
      expect(votes, `user ${u.id}`).toEqual(polls.map((p) => String(p.id)).sort());
      total += mine.balance;
    }
    const ballots = (await Promise.all(polls.map((p) => ctx.polls.getFinal(p.id)))).reduce((n, f) => n + f!.results.ballots, 0);
    expect(ballots).toBe(VOTERS * POLLS);
    expect(total).toBe(20 * ballots);
  }, 120_000);

  it('when a closed poll\'s finalise job is lost (a failover or a crash right after the close), then the repeatable award sweep enqueues it again and the poll is finalised', async () => {
    // no worker running: the finalise job the close enqueues stays waiting, so it can be lost on purpose
    for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
    await Promise.all(procs.map((p) => p.exited));
    const { user: moderator } = await ctx.users.getOrCreateByPhone('+79990000002', ['moderator']);
    const poll = await publishedPoll(ctx, moderator, { points: 20 });
    await ctx.polls.closeNow(poll.id);
    const job = await ctx.queues.lifecycle.getJob(lifecycleJobId('finalise', poll.id));
    expect(job, 'the close enqueued finalisation').toBeTruthy();
    await job!.remove();
    await spawnWorker({ AWARD_SWEEP_EVERY_MS: '1000' });
    await until(async () => (await ctx.polls.getFinal(poll.id)) !== null, 20_000, 100);
    expect((await ctx.polls.get(poll.id))!.status).toBe('finalised');
  }, 60_000);
});
