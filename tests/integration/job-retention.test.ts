import { describe, it, expect, afterAll } from 'vitest';
import type { Job } from 'bullmq';
import { testContext, testLogger } from '../helpers/context.ts';
import { createTestUser } from '../helpers/users.ts';
import { publishedPoll } from '../helpers/polls.ts';
import { until } from '../helpers/processes.ts';
import { startWorkers, type RunningWorker } from '../../server/worker.ts';
import type { AppContext } from '../../server/context.ts';
import { pointsJobId } from '../../shared/jobs.ts';

// Regression (found by tests/faults/worker-kill.test.ts): the repeatable reconcile-redemptions job was
// scheduled with `removeOnComplete: 10`, and BullMQ applies a job's keep-count to the queue's whole
// completed set, so every reconcile run (every 5–30 s) pruned the points queue to its 10 newest
// completed jobs — the award jobs README says are kept 24 h / 1,000 vanished within seconds.
describe('job retention on the points queue', () => {
  let ctx: AppContext;
  let w: RunningWorker | undefined;
  afterAll(async () => {
    await w?.close();
    await ctx?.close();
  });

  it('when the repeatable reconcile-redemptions job completes, then the completed award jobs of the points queue are still kept', async () => {
    ctx = testContext({ REDEMPTION_RECONCILE_AFTER_MS: '1000' }); // the reconciler runs every 5 s
    const mod = (await createTestUser(ctx, { roles: ['moderator'] })).user;
    const poll = await publishedPoll(ctx, mod, { points: 10 });
    const voters = [];
    for (let i = 0; i < 15; i++) {
      const { user } = await createTestUser(ctx);
      await ctx.ballots.cast(poll.id, user, { answers: { q1: ['o1'], q2: ['o2'] } });
      voters.push(user);
    }
    const ids = voters.map((u) => pointsJobId({ userId: u.id, reason: 'vote', ref: String(poll.id) }));
    const reconciled: Job[] = [];
    const awarded = new Map<string, number>(); // award job id -> finishedOn, as the worker reports them
    w = await startWorkers({ ...ctx.config }, testLogger);
    w.workers[0].on('completed', (job) => {
      if (job.name === 'reconcile-redemptions') reconciled.push(job);
      else awarded.set(job.id!, job.finishedOn ?? Date.now());
    });
    await until(() => ids.every((id) => awarded.has(id)), 20_000, 50);
    const lastAward = Math.max(...awarded.values());
    // a reconcile run that completed after every award job
    await until(() => reconciled.some((j) => (j.finishedOn ?? 0) > lastAward), 20_000, 50);
    const kept = await Promise.all(ids.map((id) => ctx.queues.points.getJobState(id)));
    expect(kept).toEqual(ids.map(() => 'completed'));
  });
});
