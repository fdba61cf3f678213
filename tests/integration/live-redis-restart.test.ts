import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { testServer } from '../helpers/context.ts';
import { createTestUser } from '../helpers/users.ts';
import { createActivePoll, syntheticResident } from '../helpers/live.ts';
import { connectSocket, nextEvent, record, ask, type ClientSocket } from '../helpers/sockets.ts';
import { until } from '../helpers/processes.ts';
import { startRedisServer, type RedisServerHandle } from '../../server/redis/redis-server.ts';
import type { RunningServer } from '../../server/main.ts';
import type { PollResults } from '../../shared/polls.ts';

const TICK_MS = 200;

/** A redis-server of this file's own (it gets killed), AOF `always`, restarted on the same port and dir. */
describe('live results when Redis restarts', () => {
  let dir: string;
  let redis: RedisServerHandle;
  let s: RunningServer & { url: string };
  const open: ClientSocket[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ac-live-redis-'));
    redis = await startRedisServer({ dir: join(dir, 'data'), appendfsync: 'always' });
    s = await testServer({ REDIS_URL: redis.url, TICK_MS: String(TICK_MS) });
  });
  afterAll(async () => {
    for (const x of open) x.close();
    await s?.close();
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('when Redis is killed and comes back with older data, then every watcher converges to Redis within 5 s without reconnecting, and live results go on', async () => {
    const ctx = s.ctx;
    const mod = await createTestUser(ctx, { roles: ['moderator'] });
    const pollId = await createActivePoll(ctx, mod.user);
    const watchers = await Promise.all(Array.from({ length: 6 }, () => connectSocket(s.url, { cookie: mod.cookie })));
    open.push(...watchers);
    const frames = watchers.map((w) => record(w, 'poll:tally'));
    let disconnects = 0;
    for (const w of watchers) w.on('disconnect', () => disconnects++);
    for (const w of watchers) expect((await ask(w, 'poll:watch', { pollId })).ok).toBe(true);

    let uid = 2_000_000;
    const castMany = async (n: number) => {
      for (let i = 0; i < n; i++) await ctx.ballots.cast(pollId, syntheticResident(uid++), { answers: { q1: [['a', 'b', 'c'][i % 3]] } });
    };
    const lastIs = (want: PollResults) => frames.every((fs) => JSON.stringify(fs.at(-1)?.frame.results) === JSON.stringify(want));

    // cost of an idle tick: commands Redis processes per tick while one poll is watched and nothing moves
    const probe = new Redis(redis.url);
    probe.on('error', () => {}); // it lives through the kill too
    const total = async () => Number(/total_commands_processed:(\d+)/.exec(await probe.info('stats'))![1]);
    await castMany(5);
    const five = await ctx.ballots.results(pollId);
    await until(() => lastIs(five), 5_000, 20);
    const ticks0 = s.realtime.broadcaster!.stats().activeTicks;
    const c0 = await total();
    await new Promise((r) => setTimeout(r, 10 * TICK_MS)); // measuring a quiet window on purpose
    const c1 = await total();
    const ticks = s.realtime.broadcaster!.stats().activeTicks - ticks0;
    console.log(`[live cost] idle: ${c1 - c0 - 1} Redis commands over ${ticks} ticks = ${((c1 - c0 - 1) / ticks).toFixed(2)} per tick (1 watched poll, 1 shard; includes BullMQ/other background)`);

    // the state at T1 (AOF fsynced on every write): what a restart with data loss will bring back
    const backup = join(dir, 'backup');
    cpSync(join(dir, 'data'), backup, { recursive: true });
    await castMany(7);
    const twelve = await ctx.ballots.results(pollId);
    expect(twelve.ballots).toBe(12);
    await until(() => lastIs(twelve), 5_000, 20);

    // kill -9 Redis, bring it back on the same port and dir with the older AOF (the last 7 ballots lost)
    redis.process.kill('SIGKILL');
    await new Promise((r) => redis.process.once('exit', r));
    await new Promise((r) => setTimeout(r, 3 * TICK_MS)); // let ticks fail against a dead Redis on purpose
    const errorsWhileDown = s.realtime.broadcaster!.stats().errors;
    rmSync(join(dir, 'data'), { recursive: true, force: true });
    cpSync(backup, join(dir, 'data'), { recursive: true });
    const restarted = performance.now();
    redis = await startRedisServer({ dir: join(dir, 'data'), port: redis.port, appendfsync: 'always' });
    const answering = performance.now() - restarted;

    const truth: PollResults = await until(async () => {
      const r = await ctx.ballots.results(pollId);
      return r.ballots === 5 ? r : null;
    }, 10_000, 50) as PollResults;
    expect(truth.version).toBeLessThan(twelve.version); // versions went backwards
    await until(() => lastIs(truth), 5_000, 20);
    const converged = performance.now() - restarted;
    console.log(
      `[live redis restart] ticks failed while down: ${errorsWhileDown}; redis-server answered PING ${answering.toFixed(0)} ms after spawn; ` +
        `all ${watchers.length} watchers back to Redis's state (12 -> 5 ballots) ${converged.toFixed(0)} ms after the restart began`,
    );
    expect(errorsWhileDown).toBeGreaterThan(0);
    expect(converged).toBeLessThan(5_000);
    expect(disconnects).toBe(0);
    expect(watchers.every((w) => w.connected)).toBe(true);

    // and it goes on: new ballots and adapter events (re-subscribed) still arrive
    await castMany(4);
    const nine = await ctx.ballots.results(pollId);
    expect(nine.ballots).toBe(9);
    await until(() => lastIs(nine), 5_000, 20);
    const statuses = Promise.all(watchers.map((w) => nextEvent(w, 'poll:status')));
    await until(async () => {
      ctx.realtime.toPoll(pollId, 'poll:status', { pollId, status: 'active', at: new Date().toISOString() });
      await Promise.race([statuses, new Promise((r) => setTimeout(r, 200))]);
      return true;
    });
    expect((await statuses).every((f) => f.pollId === pollId)).toBe(true);
    probe.disconnect();
  }, 60_000);
});
