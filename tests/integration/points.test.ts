import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { testServer, testContext, testLogger } from '../helpers/context.ts';
import { createTestUser } from '../helpers/users.ts';
import { connectSocket, record, nextEvent, type ClientSocket } from '../helpers/sockets.ts';
import { publishedPoll } from '../helpers/polls.ts';
import { childEnv, spawnScript, until, type Spawned } from '../helpers/processes.ts';
import { startWorkers, type RunningWorker } from '../../server/worker.ts';
import type { RunningServer } from '../../server/main.ts';
import type { AppContext } from '../../server/context.ts';
import { pointsJobId, lifecycleJobId } from '../../shared/jobs.ts';
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

  it('when a ballot is accepted, then the worker awards the poll\'s points once and pushes the new balance to the voter\'s socket; a duplicate job awards and pushes nothing', async () => {
    const poll = await publishedPoll(s.ctx, mod, { points: 20 });
    const voter = await createTestUser(s.ctx);
    const sock = await connectSocket(s.url, { cookie: voter.cookie });
    sockets.push(sock);
    const frames = record(sock, 'points');
    const first = nextEvent(sock, 'points');
    const r = await fetch(`${s.url}/api/polls/${poll.id}/ballots`, { method: 'POST', headers: voter.headers, body: JSON.stringify(ballot) });
    expect(r.status).toBe(201);
    expect(await first).toEqual({ balance: 20, delta: 20, reason: 'vote', level: 'newcomer' });
    const jobId = pointsJobId({ userId: voter.user.id, reason: 'vote', ref: String(poll.id) });
    await until(async () => (await s.ctx.queues.points.getJob(jobId))?.finishedOn);
    expect((await s.ctx.queues.points.getJob(jobId))?.returnvalue).toMatchObject({ awarded: true, points: 20 });
    // the same award again under another id (a duplicate that escaped id dedup), and the same id again
    const dup = await s.ctx.queues.points.add('award', { userId: voter.user.id, reason: 'vote', ref: String(poll.id), points: 20 }, { jobId: `${jobId}-dup` });
    await s.ctx.queues.points.add('award', { userId: voter.user.id, reason: 'vote', ref: String(poll.id), points: 20 }, { jobId });
    await until(async () => (await s.ctx.queues.points.getJob(dup.id!))?.finishedOn);
    expect((await s.ctx.queues.points.getJob(dup.id!))?.returnvalue).toMatchObject({ awarded: false });
    // a later, different award proves the socket was listening all along and got exactly one frame before
    const next = nextEvent(sock, 'points');
    await s.ctx.points.award(voter.user.id, 'profile', 'profile', 50);
    expect((await next).balance).toBe(70);
    expect(frames.map((f) => f.frame.delta)).toEqual([20, 50]);
    expect((await s.ctx.points.mine(voter.user.id, 10)).balance).toBe(70);
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

describe('points survive kill -9 of a real worker process mid-job', () => {
  let ctx: AppContext;
  const procs: Spawned[] = [];
  const workerEnv = () => childEnv(ctx.config, { WORKER_STALLED_INTERVAL_MS: '1000', WORKER_CONCURRENCY: '16' });
  const spawnWorker = async () => {
    const p = spawnScript('server/worker.ts', [], workerEnv());
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

  it('when the worker is killed while awarding and restarted, then every voter has exactly one award per poll and points == 20 × ballots', async () => {
    const VOTERS = 300;
    const POLLS = 3;
    const { user: moderator } = await ctx.users.getOrCreateByPhone('+79990000001', ['moderator']);
    const polls = [];
    for (let i = 0; i < POLLS; i++) polls.push(await publishedPoll(ctx, moderator, { points: 20 }));
    const voters: User[] = [];
    for (let i = 0; i < VOTERS; i++) voters.push((await ctx.users.getOrCreateByPhone(`+7991${String(i).padStart(7, '0')}`)).user);
    // every voter votes in every poll with no worker running: the award jobs pile up
    for (const poll of polls) {
      for (let i = 0; i < voters.length; i += 100) await Promise.all(voters.slice(i, i + 100).map((u) => ctx.ballots.cast(poll.id, u, ballot)));
    }
    const q = ctx.queues.points;
    await until(async () => (await q.getJobCounts('waiting')).waiting >= VOTERS * POLLS);
    // 100 duplicates under other ids (escaped dedup), and 10 lost enqueues per poll for the finalise sweep to find
    for (const u of voters.slice(0, 100)) await q.add('award', { userId: u.id, reason: 'vote', ref: String(polls[0].id), points: 20 }, { jobId: `dup-${u.id}` });
    const lost = new Map<number, number[]>();
    for (const poll of polls) {
      const ids = voters.slice(200, 210).map((u) => u.id);
      lost.set(poll.id, ids);
      for (const uid of ids) await (await q.getJob(pointsJobId({ userId: uid, reason: 'vote', ref: String(poll.id) })))!.remove();
    }

    const w1 = await spawnWorker();
    await until(async () => (await q.getJobCounts('completed')).completed >= 150, 30_000, 5);
    w1.child.kill('SIGKILL');
    await w1.exited;
    const atKill = await q.getJobCounts('completed', 'active', 'waiting');
    console.log(`[kill -9] worker killed with ${atKill.completed} completed, ${atKill.active} active (mid-job), ${atKill.waiting} waiting`);
    expect(atKill.active).toBeGreaterThan(0);
    expect(atKill.waiting).toBeGreaterThan(0);

    const t0 = Date.now();
    await spawnWorker();
    const started = Date.now() - t0;
    await until(async () => {
      // (the repeatable redemption reconciler always has one delayed job: awards only)
      const c = await q.getJobCounts('waiting', 'active', 'prioritized');
      const delayedAwards = (await q.getDelayed()).filter((j) => j.name === 'award').length;
      return c.waiting + c.active + c.prioritized + delayedAwards === 0;
    }, 60_000, 100);
    console.log(`[kill -9] restarted worker up in ${started} ms, queue drained (stalled jobs re-run) ${Date.now() - t0 - started} ms later`);
    expect((await q.getJobCounts('failed')).failed).toBe(0);

    // closing finalises: the sweep awards the 10 lost enqueues per poll, nothing else
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
});
