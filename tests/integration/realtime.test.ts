import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { testServer, uniquePrefix } from '../helpers/context.ts';
import { createTestUser } from '../helpers/users.ts';
import { connectSocket, nextEvent, ask, type ClientSocket } from '../helpers/sockets.ts';
import type { RunningServer } from '../../server/main.ts';
import { rooms } from '../../server/realtime/emitter.ts';

type S = RunningServer & { url: string };

describe('realtime transport: adapter, origin, rate limit, payload validation', () => {
  let a: S;
  let b: S;
  const open: ClientSocket[] = [];
  const track = <T extends ClientSocket>(s: T) => (open.push(s), s);

  beforeAll(async () => {
    // two servers on one Redis and one prefix = two nodes of one deployment
    const prefix = uniquePrefix('rt');
    a = await testServer({ REDIS_PREFIX: prefix });
    b = await testServer({ REDIS_PREFIX: prefix });
  });
  afterAll(async () => {
    for (const s of open) s.close();
    await Promise.all([a?.close(), b?.close()]);
  });

  it('when a handshake carries a foreign Origin, then it is refused; an allowed Origin connects', async () => {
    await expect(connectSocket(a.url, { origin: 'http://evil.test', reconnection: false })).rejects.toThrow();
    const ok = track(await connectSocket(a.url, { origin: 'http://app.test' }));
    expect(ok.connected).toBe(true);
  });

  it('when a user event is emitted through ctx.realtime on server A, then the user\'s sockets on A and B get it and nobody else does', async () => {
    const alice = await createTestUser(a.ctx);
    const bob = await createTestUser(a.ctx);
    const onA = track(await connectSocket(a.url, { cookie: alice.cookie }));
    const onB = track(await connectSocket(b.url, { cookie: alice.cookie }));
    const bobOnB = track(await connectSocket(b.url, { cookie: bob.cookie }));
    expect(onA.userId).toBe(alice.user.id);
    let bobGot = 0;
    bobOnB.on('points', () => bobGot++);
    const frame = { balance: 10, delta: 10, reason: 'poll:1', level: 'novice' };
    const got = Promise.all([nextEvent(onA, 'points'), nextEvent(onB, 'points')]);
    a.ctx.realtime.toUser(alice.user.id, 'points', frame);
    expect(await got).toEqual([frame, frame]);
    // a later event to Bob proves Bob's socket was listening all along (and got only his own)
    const bobs = nextEvent(bobOnB, 'points');
    a.ctx.realtime.toUser(bob.user.id, 'points', { ...frame, balance: 3 });
    expect((await bobs).balance).toBe(3);
    expect(bobGot).toBe(1);
  });

  it('when a status event is emitted to a poll room from another process, then watchers in that room on every server get it', async () => {
    // sockets put in the room directly (poll:watch is covered with real polls in live.test.ts)
    const s1 = track(await connectSocket(a.url));
    const s2 = track(await connectSocket(b.url));
    a.io.in(s1.id!).socketsJoin(rooms.poll(777));
    b.io.in(s2.id!).socketsJoin(rooms.poll(777));
    const frame = { pollId: 777, status: 'closed' as const, at: new Date().toISOString() };
    const got = Promise.all([nextEvent(s1, 'poll:status'), nextEvent(s2, 'poll:status')]);
    b.ctx.realtime.toPoll(777, 'poll:status', frame);
    expect(await got).toEqual([frame, frame]);
  });

  it('when poll:watch gets a malformed payload, then the ack is bad_request and the socket stays usable', async () => {
    const s = track(await connectSocket(a.url));
    const bad: unknown[] = [
      { pollId: 'x' },
      {},
      null,
      42,
      { pollId: 1.5 },
      { pollId: -1 },
      { pollId: 1, extra: true },
      JSON.parse('{"pollId":1,"__proto__":{"polluted":true}}'),
      { pollId: 1e300 },
    ];
    for (const p of bad) {
      const r = await ask(s, 'poll:watch', p);
      expect(r, JSON.stringify(p)).toMatchObject({ ok: false, error: { code: 'bad_request' } });
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    // no ack function at all: nothing to answer, the server survives
    s.emit('poll:watch' as any, { pollId: 'x' });
    expect((await ask(s, 'ping:server')).ok).toBe(true);
  });

  it('when a client sends a ballot over the socket (ballot:cast), then nothing answers it and nothing is counted: ballots go over HTTP only', async () => {
    const mod = await createTestUser(a.ctx, { roles: ['moderator'] });
    const voter = await createTestUser(a.ctx);
    const poll = await a.ctx.polls.publish((await a.ctx.polls.create({ title: 'Socket ballot?', questions: [{ id: 'q1', text: 'Q', kind: 'single', options: [{ id: 'a', label: 'A' }, { id: 'b', label: 'B' }] }], opensAt: new Date(Date.now() - 1000).toISOString(), closesAt: new Date(Date.now() + 3_600_000).toISOString() }, mod.user)).id);
    const s = track(await connectSocket(a.url, { cookie: voter.cookie }));
    let answered = false;
    s.emit('ballot:cast' as any, { pollId: poll.id, answers: { q1: ['a'] } }, () => (answered = true));
    expect((await ask(s, 'ping:server')).ok).toBe(true); // the server has read ballot:cast by now (one socket, in order)
    expect(answered).toBe(false);
    expect((await a.ctx.ballots.results(poll.id)).ballots).toBe(0);
    expect(await a.ctx.ballots.hasVoted(poll.id, voter.user.id)).toBe(false);
  });

  it('when a payload is larger than maxHttpBufferSize, then only that socket is dropped and the server keeps serving', async () => {
    const s = track(await connectSocket(a.url, { reconnection: false }));
    const other = track(await connectSocket(a.url));
    const closed = new Promise<string>((res) => s.once('disconnect', (reason) => res(reason)));
    s.emit('poll:watch' as any, { pollId: 1, junk: 'x'.repeat(20 * 1024) }, () => {});
    expect(await closed).toMatch(/transport (close|error)/);
    expect((await ask(other, 'ping:server')).ok).toBe(true);
  });

  it('when a socket floods events, then it gets rate_limited acks and, if it keeps on, is disconnected; others are unaffected', async () => {
    const flooder = track(await connectSocket(a.url, { reconnection: false }));
    const calm = track(await connectSocket(a.url));
    const disconnected = new Promise<string>((res) => flooder.once('disconnect', (r) => res(r)));
    const acks: any[] = [];
    const t0 = performance.now();
    for (let i = 0; i < 200 && flooder.connected; i++) flooder.emit('ping:server', (r) => acks.push(r));
    const reason = await disconnected;
    const elapsedSec = (performance.now() - t0) / 1000;
    const ok = acks.filter((r) => r.ok).length;
    const limited = acks.filter((r) => !r.ok && r.error.code === 'rate_limited').length;
    console.log(`[rate limit] sent 200 events in one burst: ${ok} ok, ${limited} rate_limited, then disconnected (${reason})`);
    // never more than the burst (40) plus what the bucket refilled (20/s) while the burst was being
    // handled (a few ms on an idle machine, more on a loaded one); events still queued when the
    // server cut the socket off are dropped unanswered (socket.io ignores packets after disconnect)
    // (how many ok acks reach the client before the cut varies — 12 on an idle machine, and it failed a
    // lower bound once under load — so only the upper bound is asserted)
    expect(ok).toBeLessThanOrEqual(40 + Math.ceil(20 * elapsedSec) + 1);
    expect(limited).toBeGreaterThan(40); // maxRejected, then the cut
    expect(reason).toBe('io server disconnect');
    expect((await ask(calm, 'ping:server')).ok).toBe(true);
  });
});
