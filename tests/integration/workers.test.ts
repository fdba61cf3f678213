import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { testServer, testContext, testLogger } from '../helpers/context.ts';
import { createTestUser } from '../helpers/users.ts';
import { connectSocket, record, nextEvent, ask, type ClientSocket } from '../helpers/sockets.ts';
import { publishedPoll } from '../helpers/polls.ts';
import { childEnv, spawnScript, until, type Spawned } from '../helpers/processes.ts';
import { startWorkers, type RunningWorker } from '../../server/worker.ts';
import { tallyField } from '../../server/ballots/tally-fields.ts';
import { finalisePoll } from '../../server/polls/lifecycle.jobs.ts';
import type { RunningServer } from '../../server/main.ts';
import type { AppContext } from '../../server/context.ts';
import { lifecycleJobId } from '../../shared/jobs.ts';
import type { User } from '../../shared/users.ts';

type S = RunningServer & { url: string };
const ballot = { answers: { q1: ['o1'], q2: ['o2'] } };

async function votes(ctx: AppContext, pollId: number, n: number): Promise<User[]> {
  const users: User[] = [];
  for (let i = 0; i < n; i++) {
    const { user } = await createTestUser(ctx);
    await ctx.ballots.cast(pollId, user, ballot);
    users.push(user);
  }
  return users;
}

describe('poll lifecycle jobs, finalisation and the queue board (in-process worker)', () => {
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

  it('when finalise is enqueued 100 times (and 20 more under other ids), then one outcome is written and poll:status finalised is pushed once', async () => {
    const poll = await publishedPoll(s.ctx, mod, { points: 20 });
    const voters = await votes(s.ctx, poll.id, 6);
    const sock = await connectSocket(s.url);
    sockets.push(sock);
    expect((await ask(sock, 'poll:watch', { pollId: poll.id })).ok).toBe(true);
    const statuses = record(sock, 'poll:status');

    await s.ctx.polls.closeNow(poll.id);
    const q = s.ctx.queues.lifecycle;
    const same = await Promise.all(Array.from({ length: 100 }, () => q.add('finalise', { pollId: poll.id }, { jobId: lifecycleJobId('finalise', poll.id) })));
    expect(new Set(same.map((j) => j.id))).toEqual(new Set([`finalise-${poll.id}`]));
    const others = await Promise.all(Array.from({ length: 20 }, (_, i) => q.add('finalise', { pollId: poll.id }, { jobId: `finalise-${poll.id}-again-${i}` })));
    const done = await until(async () => {
      const jobs = await Promise.all([same[0], ...others].map((j) => q.getJob(j.id!)));
      return jobs.every((j) => j?.finishedOn) ? jobs : null;
    });
    const outcomes = done!.map((j) => j!.returnvalue);
    expect(new Set(outcomes.map((o) => o.finalisedAt)).size).toBe(1);
    // runs under other ids may race through the whole path: SET NX keeps the first snapshot for all of them
    expect(outcomes.filter((o) => !o.already).length).toBeGreaterThanOrEqual(1);
    const final = (await s.ctx.polls.getFinal(poll.id))!;
    expect(final).toMatchObject({ finalisedAt: outcomes[0].finalisedAt, results: { ballots: 6 }, integrity: { votersMarked: 6, ledgerLength: 6, ballots: 6, ok: true } });
    expect((await s.ctx.polls.get(poll.id))!.status).toBe('finalised');
    for (const u of voters) expect((await s.ctx.points.mine(u.id, 10)).balance).toBe(20);
    // a later event on the same room is the barrier: everything before it has arrived
    const barrier = nextEvent(sock, 'poll:status', (f) => f.status === 'draft');
    s.ctx.realtime.toPoll(poll.id, 'poll:status', { pollId: poll.id, status: 'draft', at: 'barrier' });
    await barrier;
    expect(statuses.filter((f) => f.frame.status === 'finalised')).toHaveLength(1);
    expect(statuses.filter((f) => f.frame.status === 'closed')).toHaveLength(1);
  });

  it('when two finalisations race on the same poll, then both return the one stored snapshot', async () => {
    const poll = await publishedPoll(s.ctx, mod, { points: 0 });
    await votes(s.ctx, poll.id, 3);
    await s.ctx.polls.close(poll.id);
    const [a, b, c] = await Promise.all([1, 2, 3].map(() => finalisePoll(s.ctx, poll.id, testLogger)));
    expect(a.final).toEqual(b.final);
    expect(b.final).toEqual(c.final);
    expect((await s.ctx.polls.getFinal(poll.id))).toEqual(a.final);
  });

  it('when a crash left the snapshot written but the state not finalised, then the next finalise keeps that snapshot and finishes the state', async () => {
    const poll = await publishedPoll(s.ctx, mod, { points: 0 });
    await votes(s.ctx, poll.id, 2);
    const earlier = { pollId: poll.id, finalisedAt: '2026-01-01T00:00:00.000Z', results: await s.ctx.ballots.results(poll.id) };
    await s.ctx.redis.set(s.ctx.keys.pollFinal(poll.id), JSON.stringify(earlier)); // the half of a crashed finalise
    await s.ctx.polls.closeNow(poll.id);
    const job = await until(async () => {
      const j = await s.ctx.queues.lifecycle.getJob(lifecycleJobId('finalise', poll.id));
      return j?.finishedOn ? j : null;
    });
    expect(job!.returnvalue).toMatchObject({ already: true, finalisedAt: earlier.finalisedAt });
    expect((await s.ctx.polls.get(poll.id))!.status).toBe('finalised');
    expect(await s.ctx.polls.getFinal(poll.id)).toEqual(earlier);
  });

  it('when tallies disagree with the ballot ledger and voter marks, then finalisation raises an integrity alarm visible on /metrics and records ok=false', async () => {
    const poll = await publishedPoll(s.ctx, mod, { points: 0 });
    await votes(s.ctx, poll.id, 3);
    await s.ctx.redis.hincrby(s.ctx.keys.pollTally(poll.id, 0), tallyField.ballots, 1); // a lost-write style corruption
    await s.ctx.polls.closeNow(poll.id);
    const final = await until(() => s.ctx.polls.getFinal(poll.id));
    expect(final!.integrity).toEqual({ votersMarked: 3, ledgerLength: 3, ballots: 4, ok: false });
    const metrics = await (await fetch(`${s.url}/metrics`)).text();
    expect(metrics).toMatch(new RegExp(`ac_integrity_alarms_recorded\\{poll="${poll.id}"[^}]*\\} 1`));
  });

  it('when a poll reaches opensAt, then the open job makes it active and tells its watchers', async () => {
    const now = Date.now();
    const poll = await publishedPoll(s.ctx, mod, { opensAt: new Date(now + 1200).toISOString(), closesAt: new Date(now + 3600_000).toISOString() });
    expect(poll.status).toBe('scheduled');
    const sock = await connectSocket(s.url);
    sockets.push(sock);
    await ask(sock, 'poll:watch', { pollId: poll.id });
    const active = nextEvent(sock, 'poll:status', (f) => f.pollId === poll.id && f.status === 'active', 10_000);
    const job = await until(async () => {
      const j = await s.ctx.queues.lifecycle.getJob(lifecycleJobId('open', poll.id));
      return j?.finishedOn ? j : null;
    }, 10_000);
    expect(job!.returnvalue).toEqual({ opened: true });
    await active;
  });

  it('when a lifecycle job carries bad data or an unknown name, then it fails for good and nothing changes', async () => {
    const q = s.ctx.queues.lifecycle;
    const jobs = [
      await q.add('finalise', { pollId: 'x' } as any, { jobId: 'bad-finalise' }),
      await q.add('close', { pollId: -1 } as any, { jobId: 'bad-close' }),
      await q.add('finalise', { pollId: 987654 }, { jobId: 'unknown-poll' }),
      await q.add('explode', { pollId: 1 } as any, { jobId: 'bad-name' }),
    ];
    for (const j of jobs) {
      const done = await until(async () => {
        const x = await q.getJob(j.id!);
        return x?.finishedOn ? x : null;
      });
      expect(await done!.getState(), j.id).toBe('failed');
      expect(done!.attemptsMade, j.id).toBe(1);
    }
    // a finalise for a poll still open is refused too (it must be closed first)
    const open = await publishedPoll(s.ctx, mod);
    const j = await q.add('finalise', { pollId: open.id }, { jobId: `early-${open.id}` });
    const failed = await until(async () => ((await q.getJob(j.id!))?.finishedOn ? q.getJob(j.id!) : null));
    expect(failed!.failedReason).toMatch(/active poll/);
    expect(await s.ctx.polls.getFinal(open.id)).toBeNull();
  });

  it('when /admin/queues is asked by anonymous or non-admin users, then 401/403 JSON; an admin gets the board and its API', async () => {
    const anon = await fetch(`${s.url}/admin/queues`);
    expect(anon.status).toBe(401);
    expect(((await anon.json()) as any).error.code).toBe('unauthenticated');
    const resident = await createTestUser(s.ctx);
    const res = await fetch(`${s.url}/admin/queues/api/queues`, { headers: resident.headers });
    expect(res.status).toBe(403);
    expect(((await res.json()) as any).error.code).toBe('forbidden');
    const admin = await createTestUser(s.ctx, { roles: ['admin'] });
    const page = await fetch(`${s.url}/admin/queues`, { headers: admin.headers });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    const api = await fetch(`${s.url}/admin/queues/api/queues`, { headers: admin.headers });
    expect(api.status).toBe(200);
    const names = ((await api.json()) as any).queues.map((q: any) => q.name).sort();
    expect(names).toEqual(['city', 'lifecycle', 'notifications', 'points']);
    const csrf = await fetch(`${s.url}/admin/queues/api/queues/points/retry/failed`, { method: 'PUT', headers: { ...admin.headers, origin: 'https://evil.example' } });
    expect(csrf.status).toBe(403);
    expect(((await csrf.json()) as any).error.code).toBe('csrf_rejected');
  });
});

describe('a poll closes on time with the worker down, and finalises when it comes back (real worker process)', () => {
  let ctx: AppContext;
  const procs: Spawned[] = [];
  beforeAll(() => {
    ctx = testContext();
  });
  afterAll(async () => {
    for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
    await ctx?.close();
  });

  it('when closesAt passes with no worker, then voting is refused on time; the worker, started later, closes, sweeps points and finalises, and stops cleanly on SIGTERM', async () => {
    const { user: moderator } = await ctx.users.getOrCreateByPhone('+79990000002', ['moderator']);
    const closesAt = Date.now() + 2500;
    const poll = await publishedPoll(ctx, moderator, { points: 20, closesAt: new Date(closesAt).toISOString() });
    const voters = await votes(ctx, poll.id, 5);
    const late = (await createTestUser(ctx)).user;
    // no worker: the close job is due, but the cast script's clock check refuses ballots anyway
    await until(() => Date.now() > closesAt, 10_000, 20);
    await expect(ctx.ballots.cast(poll.id, late, ballot)).rejects.toMatchObject({ code: 'poll_closed' });
    expect(await ctx.ballots.hasVoted(poll.id, late.id)).toBe(false);
    expect(await ctx.polls.getFinal(poll.id)).toBeNull();
    expect(await ctx.queues.lifecycle.getJob(lifecycleJobId('close', poll.id)).then((j) => j?.getState())).toBe('delayed');
    for (const u of voters) expect((await ctx.points.mine(u.id, 10)).balance).toBe(0);

    const worker = spawnScript('server/worker.ts', [], childEnv(ctx.config));
    procs.push(worker);
    const final = await until(() => ctx.polls.getFinal(poll.id), 30_000, 100);
    console.log(`[late close] closesAt passed ${Date.now() - closesAt} ms before the final snapshot (worker started after the close was due)`);
    expect(final!.results.ballots).toBe(5);
    expect(final!.integrity?.ok).toBe(true);
    expect((await ctx.polls.get(poll.id))!.status).toBe('finalised');
    expect((await ctx.queues.lifecycle.getJob(lifecycleJobId('close', poll.id)))!.returnvalue).toEqual({ closed: true });
    await until(async () => {
      for (const u of voters) if ((await ctx.points.mine(u.id, 10)).balance !== 20) return false;
      return true;
    }, 20_000, 100);
    expect((await ctx.points.mine(late.id, 10)).balance).toBe(0);

    worker.child.kill('SIGTERM');
    expect((await worker.exited).code).toBe(0);
    expect(worker.output()).toMatch(/worker stopped/);
  }, 60_000);
});
