import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { testContext, testLogger } from '../helpers/context.ts';
import { createTestUser } from '../helpers/users.ts';
import { finalisedPoll, manyResidents } from '../helpers/decisions.ts';
import { childEnv, spawnScript, until, type Spawned } from '../helpers/processes.ts';
import type { AppContext } from '../../server/context.ts';

const VOTERS = 20_000;
const CHUNK_BITS = 512;

describe('decision fan-out survives a killed worker (20k voters, real worker processes)', () => {
  let ctx: AppContext;
  const procs: Spawned[] = [];
  beforeAll(async () => {
    ctx = testContext({ NOTIFY_CHUNK_BITS: String(CHUNK_BITS) });
  });
  afterAll(async () => {
    for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
    await ctx.close();
  });

  const worker = () => {
    const p = spawnScript('server/worker.ts', [], childEnv(ctx.config, {
      // slow the fan-out down a little so the kill lands mid-way; recover a killed worker's job fast
      NOTIFY_CHUNK_PAUSE_MS: '25',
      WORKER_STALLED_INTERVAL_MS: '1000',
    }));
    procs.push(p);
    return p;
  };

  it('when the worker is SIGKILLed mid-fan-out and a new one starts, then every one of 20,000 voters has the decision exactly once, and nobody else has it', async () => {
    const t0 = Date.now();
    const mod = await createTestUser(ctx, { roles: ['moderator'] });
    const official = await createTestUser(ctx, { roles: ['official'] });
    const bystander = await createTestUser(ctx);
    const voters = await manyResidents(ctx, VOTERS, '801');
    const tUsers = Date.now();
    const { poll, final } = await finalisedPoll(ctx, mod.user, voters);
    expect(final.results.ballots).toBe(VOTERS);
    const tSeed = Date.now();

    const w1 = worker();
    await w1.waitFor(/workers started/);
    await ctx.decisions.publish(poll.id, { summary: 'The park goes north', body: 'Work starts in spring.' }, official.user);
    const notifId = `d${poll.id}.1`;

    // kill once at least 5 chunks are recorded, well before the end (~40 chunks of 512 voter bits)
    const atKill = await until(async () => {
      const c = await ctx.notificationStore.cursor(poll.id, 1);
      return c.chunk >= 5 ? c : null;
    }, 30_000, 5);
    w1.child.kill('SIGKILL');
    await w1.exited;
    const afterKill = await ctx.notificationStore.cursor(poll.id, 1);
    const totalChunks = Math.ceil((Math.max(...voters.map((v) => v.id)) + 1) / CHUNK_BITS);
    expect(afterKill.done).toBe(false);
    expect(afterKill.chunk).toBeLessThan(totalChunks);
    expect(afterKill.written).toBeLessThan(VOTERS);
    expect(w1.output()).not.toMatch(/fanout done/);

    const tKilled = Date.now();
    const w2 = worker();
    await w2.waitFor(/fanout resuming/, 60_000);
    const tResumed = Date.now();
    const done = await until(async () => {
      const c = await ctx.notificationStore.cursor(poll.id, 1);
      return c.done ? c : null;
    }, 60_000, 50);
    const tDone = Date.now();
    expect(w2.output()).toMatch(/fanout resuming/);
    expect(done!.written).toBe(VOTERS); // each inbox write counted once, across both workers

    const ids = voters.map((v) => v.id);
    const counts = await ctx.notificationStore.inboxCounts(ids, notifId);
    expect(counts.filter((n) => n !== 1).length).toBe(0);
    const unread = await Promise.all(ids.map((id) => ctx.notifications.unread(id)));
    expect(unread.filter((n) => n !== 1).length).toBe(0);
    expect(await ctx.notificationStore.inboxCounts([bystander.user.id, official.user.id, mod.user.id], notifId)).toEqual([0, 0, 0]);

    w2.child.kill('SIGTERM');
    await w2.exited;
    testLogger.info({ seedMs: tSeed - t0, fanoutMs: tDone - tSeed, killedAtChunk: atKill!.chunk, writtenAtKill: afterKill.written, totalChunks }, 'fanout crash test');
    process.stdout.write(`[fanout-crash] users ${tUsers - t0} ms, ballots+finalise ${tSeed - tUsers} ms; fan-out until kill ${tKilled - tSeed} ms, new worker resumed after ${tResumed - tKilled} ms, rest done in ${tDone - tResumed} ms; killed at chunk ${afterKill.chunk}/${totalChunks} with ${afterKill.written} written\n`);
  }, 180_000);
});
