import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { get } from 'node:http';
import { testContext } from '../helpers/context.ts';
import { createTestUser } from '../helpers/users.ts';
import { createActivePoll } from '../helpers/live.ts';
import { connectSocket, nextEvent, ask, type ClientSocket } from '../helpers/sockets.ts';
import { childEnv, spawnScript, until, type Spawned } from '../helpers/processes.ts';
import { freePort } from '../../server/redis/redis-server.ts';
import type { AppContext } from '../../server/context.ts';

const TICK_MS = 200;
const SOCKETS = 8;

/** /healthz over a fresh connection (no keep-alive): the primary hands each connection to the next process. */
const health = (url: string) =>
  new Promise<{ pid: number; sockets: number }>((res, rej) => {
    get(`${url}/healthz`, { agent: false, headers: { connection: 'close' } }, (r) => {
      let body = '';
      r.on('data', (d) => (body += d));
      r.on('end', () => res(JSON.parse(body)));
    }).on('error', rej);
  });

/** `npm start`'s server with SERVER_PROCESSES=2: one port, two server processes (node:cluster). */
describe('SERVER_PROCESSES=2: two server processes on one port', () => {
  let ctx: AppContext;
  let proc: Spawned;
  let url: string;
  const open: ClientSocket[] = [];

  beforeAll(async () => {
    ctx = testContext();
    const port = await freePort();
    proc = spawnScript('server/main.ts', [], childEnv(ctx.config, { SERVER_PROCESSES: '2', HOST: '127.0.0.1', PORT: String(port), ALLOWED_ORIGINS: 'http://app.test', TICK_MS: String(TICK_MS) }));
    url = `http://127.0.0.1:${port}`;
    await until(() => (proc.output().match(/server listening/g) ?? []).length === 2, 60_000, 100);
  });
  afterAll(async () => {
    for (const s of open) s.close();
    if (proc?.child.exitCode === null) {
      proc.child.kill('SIGTERM');
      const { code } = await proc.exited;
      expect(code, proc.output().slice(-2000)).toBe(0);
      expect((proc.output().match(/server stopped/g) ?? []).length, 'both processes stopped gracefully').toBe(2);
    }
    await ctx?.close();
  });

  it('when sockets connect, then they spread over both processes; a points event for their user reaches every socket once, and a vote reaches the watchers on both processes as a tally frame', async () => {
    const mod = await createTestUser(ctx, { roles: ['moderator'] });
    const pollId = await createActivePoll(ctx, mod.user);
    for (let i = 0; i < SOCKETS; i++) open.push(await connectSocket(url, { cookie: mod.cookie, origin: 'http://app.test' }));
    // which process holds how many sockets: ask /healthz over fresh connections until both have answered
    const seen = new Map<number, number>();
    await until(async () => {
      const h = await health(url);
      seen.set(h.pid, h.sockets);
      return seen.size === 2;
    }, 10_000, 10);
    const perProcess = [...seen.values()];
    expect(perProcess.reduce((a, b) => a + b), 'every socket is on one of the two processes').toBe(SOCKETS);
    expect(Math.min(...perProcess), 'each process holds sockets').toBeGreaterThan(0);

    // a targeted event (points) from another process (here the test's, as the worker would): every socket, once
    const frames = open.map(() => 0);
    open.forEach((s, i) => s.on('points', () => frames[i]++));
    const got = open.map((s) => nextEvent(s, 'points', (f) => f.delta === 50));
    await ctx.points.award(mod.user.id, 'profile', 'profile', 50);
    expect((await Promise.all(got)).map((f) => f.balance)).toEqual(open.map(() => 50));

    // tallies: every watcher, on either process, gets the vote from its own process's broadcaster
    for (const s of open) expect(await ask(s, 'poll:watch', { pollId })).toMatchObject({ ok: true });
    const tallies = open.map((s) => nextEvent(s, 'poll:tally', (f) => f.pollId === pollId && f.results.ballots === 1, 5_000));
    const voter = await createTestUser(ctx);
    const r = await fetch(`${url}/api/polls/${pollId}/ballots`, { method: 'POST', headers: { ...voter.headers, origin: 'http://app.test' }, body: JSON.stringify({ answers: { q1: ['a'] } }) });
    expect(r.status, await r.clone().text()).toBe(201);
    await Promise.all(tallies);
    await new Promise((res) => setTimeout(res, TICK_MS * 2)); // a duplicate points frame would have arrived by now
    expect(frames).toEqual(open.map(() => 1));
    console.log(`[server processes] ${SOCKETS} sockets over 2 processes (${perProcess.join(' + ')}): points event on all ${SOCKETS} once; tally frame on all ${SOCKETS} watchers`);
  });
});
