import { describe, it, expect, beforeAll, afterAll, inject } from 'vitest';
import { testContext, uniquePrefix } from '../helpers/context.ts';
import { createTestUser } from '../helpers/users.ts';
import { createActivePoll } from '../helpers/live.ts';
import { connectSocket, nextEvent, ask, type ClientSocket } from '../helpers/sockets.ts';
import { spawnScript, until, type Spawned } from '../helpers/processes.ts';
import { freePort } from '../../server/redis/redis-server.ts';
import type { AppContext } from '../../server/context.ts';

const TICK_MS = 200;

/** Two real server processes (server/main.ts) on one Redis and one prefix: two nodes of one deployment. */
describe('live results across two server processes', () => {
  const prefix = uniquePrefix('live2');
  let A: { url: string; proc: Spawned };
  let B: { url: string; proc: Spawned };
  let ctx: AppContext; // a third process's view (another server or a worker)
  const open: ClientSocket[] = [];
  const track = <T extends ClientSocket>(x: T) => (open.push(x), x);

  const spawnServer = async () => {
    const port = await freePort();
    const proc = spawnScript('server/main.ts', [], {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      NODE_ENV: 'test',
      LOG_LEVEL: 'warn',
      HOST: '127.0.0.1',
      PORT: String(port),
      REDIS_URL: inject('redisUrl'),
      REDIS_PREFIX: prefix,
      APP_SECRET: 'test-secret-0123456789abcdef',
      ALLOWED_ORIGINS: 'http://app.test',
      TICK_MS: String(TICK_MS),
      SERVER_PROCESSES: '1',
    });
    const url = `http://127.0.0.1:${port}`;
    await until(async () => (await fetch(`${url}/healthz`)).status === 200, 30_000, 100);
    return { url, proc };
  };

  beforeAll(async () => {
    [A, B] = await Promise.all([spawnServer(), spawnServer()]);
    ctx = testContext({ REDIS_PREFIX: prefix });
  });
  afterAll(async () => {
    for (const x of open) x.close();
    for (const s of [A, B]) {
      if (s?.proc.child.exitCode === null) {
        s.proc.child.kill('SIGTERM');
        const { code } = await s.proc.exited;
        expect(code, s.proc.output().slice(-2000)).toBe(0);
      }
    }
    await ctx?.close();
  });

  it('when a vote is accepted on server A, then a watcher on server B sees the tally frame within one tick + 100 ms', async () => {
    const mod = await createTestUser(ctx, { roles: ['moderator'] });
    const pollId = await createActivePoll(ctx, mod.user);
    const onB = track(await connectSocket(B.url, { cookie: mod.cookie }));
    expect((await ask(onB, 'poll:watch', { pollId })).ok).toBe(true);
    const latencies: number[] = [];
    for (let i = 1; i <= 8; i++) {
      const voter = await createTestUser(ctx);
      // land at a different phase of B's tick each time
      await new Promise((r) => setTimeout(r, Math.random() * TICK_MS));
      const frame = nextEvent(onB, 'poll:tally', (f) => f.pollId === pollId && f.participants === i, 3_000);
      const r = await fetch(`${A.url}/api/polls/${pollId}/ballots`, { method: 'POST', headers: voter.headers, body: JSON.stringify({ answers: { q1: ['a'] } }) });
      const accepted = performance.now();
      expect(r.status).toBe(201);
      await frame;
      latencies.push(performance.now() - accepted);
    }
    const sorted = [...latencies].sort((x, y) => x - y);
    console.log(
      `[live 2 procs] 201 on A -> poll:tally on B, 8 votes: min ${sorted[0].toFixed(0)} ms, median ${sorted[4].toFixed(0)} ms, max ${sorted[7].toFixed(0)} ms (tick ${TICK_MS} ms, bound ${TICK_MS + 100} ms)`,
    );
    for (const ms of latencies) expect(ms).toBeLessThanOrEqual(TICK_MS + 100);
  });

  it('when a poll is closed from a third process, then watchers on A and B both get poll:status; user events reach the user on both', async () => {
    const mod = await createTestUser(ctx, { roles: ['moderator'] });
    const resident = await createTestUser(ctx);
    const pollId = await createActivePoll(ctx, mod.user);
    const onA = track(await connectSocket(A.url, { cookie: resident.cookie }));
    const onB = track(await connectSocket(B.url, { cookie: mod.cookie }));
    const alsoB = track(await connectSocket(B.url, { cookie: resident.cookie }));
    for (const w of [onA, onB]) expect((await ask(w, 'poll:watch', { pollId })).ok).toBe(true);
    const got = Promise.all([onA, onB].map((w) => nextEvent(w, 'poll:status', (f) => f.pollId === pollId)));
    await ctx.polls.closeNow(pollId);
    const frames = await got;
    expect(frames.map((f) => f.status)).toEqual(['closed', 'closed']);

    const note = { id: 'n1', kind: 'decision', title: 'Decided', body: 'The park is coming', pollId, createdAt: new Date().toISOString(), unread: 1 };
    const notes = Promise.all([onA, alsoB].map((w) => nextEvent(w, 'notification')));
    ctx.realtime.toUser(resident.user.id, 'notification', note);
    expect(await notes).toEqual([note, note]);
  });

  it('when an award step pushes balances in bulk from a third process, then each voter gets exactly its own on every server it is connected to, and nobody else gets one', async () => {
    const [both, onlyB, bystander] = await Promise.all([1, 2, 3].map(() => createTestUser(ctx)));
    const sockets = {
      bothA: track(await connectSocket(A.url, { cookie: both.cookie })),
      bothB: track(await connectSocket(B.url, { cookie: both.cookie })),
      onlyB: track(await connectSocket(B.url, { cookie: onlyB.cookie })),
      bystander: track(await connectSocket(A.url, { cookie: bystander.cookie })),
    };
    const got = Object.fromEntries(Object.keys(sockets).map((k) => [k, [] as unknown[]]));
    for (const [k, w] of Object.entries(sockets)) w.on('points', (f) => got[k].push(f));
    const outs = await ctx.points.awardMany([both.user.id, onlyB.user.id], 'vote', 'bulk-test', 20);
    expect(outs.map((o) => o.created)).toEqual([true, true]);
    await until(() => got.bothA.length + got.bothB.length + got.onlyB.length === 3, 3_000, 20);
    // a later single push proves the bystander's socket was listening all along
    const late = nextEvent(sockets.bystander, 'points');
    await ctx.points.award(bystander.user.id, 'profile', 'profile', 50);
    await late;
    const frame = { balance: 20, delta: 20, reason: 'vote', level: 'newcomer' };
    expect(got).toEqual({ bothA: [frame], bothB: [frame], onlyB: [frame], bystander: [{ ...frame, balance: 50, delta: 50, reason: 'profile' }] });
    // an award already made pushes nothing
    await ctx.points.awardMany([both.user.id], 'vote', 'bulk-test', 20);
    await new Promise((r) => setTimeout(r, 300));
    expect(got.bothA).toHaveLength(1);
  });
});
