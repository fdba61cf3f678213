import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { cityApi, cityTestServer, cityUser, reportFields, type TestActor } from '../helpers/city.ts';
import { createActivePoll } from '../helpers/live.ts';
import { connectSocket, nextEvent, record, ask, type ClientSocket } from '../helpers/sockets.ts';
import type { Role } from '../../shared/users.ts';
import { rooms } from '../../server/realtime/emitter.ts';

type Server = Awaited<ReturnType<typeof cityTestServer>>;

/**
 * A role given or taken away reaches the user's open sockets on every server process at once: no reload,
 * no reconnect. Two servers share Redis and PostgreSQL; the user has one socket on each.
 */
describe('socket roles follow role changes without a reconnect', () => {
  let s1: Server;
  let s2: Server;
  let admin: TestActor, moderator: TestActor, resident: TestActor, bystander: TestActor, voter: TestActor, reporter: TestActor;
  const open: ClientSocket[] = [];
  const socket = async (s: Server, who: TestActor) => {
    const x = await connectSocket(s.url, { cookie: who.cookie, reconnection: false });
    open.push(x);
    return x;
  };
  const setRoles = async (who: TestActor, roles: Role[]) => {
    // through the second server's API: the first one hears it over Redis only
    const res = await fetch(`${s2.url}/api/users/${who.user.id}/roles`, { method: 'PUT', headers: admin.headers, body: JSON.stringify({ roles }) });
    expect(res.status).toBe(200);
  };

  beforeAll(async () => {
    s1 = await cityTestServer({ TICK_MS: '50', RESULTS_MIN_GROUP_SIZE: '1' });
    s2 = await cityTestServer({ TICK_MS: '50', RESULTS_MIN_GROUP_SIZE: '1', DATABASE_URL: s1.databaseUrl, PHOTO_DIR: s1.photoDir, REDIS_PREFIX: s1.ctx.config.REDIS_PREFIX });
    [admin, moderator, resident, bystander, voter, reporter] = await Promise.all([
      cityUser(s1.ctx, ['admin']), cityUser(s1.ctx, ['moderator']), cityUser(s1.ctx), cityUser(s1.ctx), cityUser(s1.ctx), cityUser(s1.ctx),
    ]);
  });
  afterAll(async () => {
    for (const x of open) x.close();
    await s2?.close();
    await s1?.close();
  });

  it('when a resident with a socket on each of two servers is made a moderator, then both get the poll breakdown and the city moderation queue live; when the role is taken away, then staff-only events stop on both while the sockets stay connected', async () => {
    const pollId = await createActivePoll(s1.ctx, moderator.user); // results not public while it runs
    const [a, b] = [await socket(s1, resident), await socket(s2, resident)];
    const others = await socket(s1, bystander); // a resident who never changes
    const [mod1, mod2] = [await socket(s1, moderator), await socket(s2, moderator)]; // staff all along
    for (const x of [a, b, others, mod1, mod2]) expect((await ask(x, 'poll:watch', { pollId })).data.canSeeResults).toBe(x === mod1 || x === mod2);
    for (const x of [mod1, mod2]) expect((await ask(x, 'city:queue:watch')).ok).toBe(true);
    expect(await ask(a, 'city:queue:watch')).toMatchObject({ ok: false, error: { code: 'forbidden' } });

    // granted: each socket hears its new roles and gets the poll's results, with no reconnect
    const granted = [a, b].map((x) => Promise.all([nextEvent(x, 'session', (f) => f.roles.includes('moderator')), nextEvent(x, 'poll:tally', (f) => f.pollId === pollId)]));
    await setRoles(resident, ['moderator']);
    for (const [session, snapshot] of await Promise.all(granted)) {
      expect(session).toEqual({ userId: resident.user.id, roles: ['resident', 'moderator'] });
      expect(snapshot.participants).toBe(0);
    }
    for (const x of [a, b]) expect(await ask(x, 'city:queue:watch')).toEqual({ ok: true, data: { moderation: true, organisationIds: [] } });
    // live staff events now reach both: tallies of a vote, the moderation queue of a new report
    const tallies = [a, b].map((x) => nextEvent(x, 'poll:tally', (f) => f.participants === 1));
    const othersCount = nextEvent(others, 'poll:participants', (f) => f.pollId === pollId && f.participants === 1);
    expect((await fetch(`${s1.url}/api/polls/${pollId}/ballots`, { method: 'POST', headers: voter.headers, body: JSON.stringify({ answers: { q1: ['a'] } }) })).status).toBe(201);
    await Promise.all(tallies);
    await othersCount; // the unchanged resident still gets counts only
    const queued = [a, b].map((x) => nextEvent(x, 'city:queue', (f) => f.step === 'submitted'));
    const first = await cityApi(s1.url).file(reporter, reportFields({ district: 'khamovniki' }));
    expect(first.status).toBe(201);
    for (const f of await Promise.all(queued)) expect(f.reportId).toBe(first.body.id);

    // revoked: the sockets stay connected but staff-only events stop
    const revoked = [a, b].map((x) => nextEvent(x, 'session', (f) => !f.roles.includes('moderator')));
    await setRoles(resident, []);
    for (const session of await Promise.all(revoked)) expect(session).toEqual({ userId: resident.user.id, roles: ['resident'] });
    const [tallyA, tallyB, queueA, queueB] = [record(a, 'poll:tally'), record(b, 'poll:tally'), record(a, 'city:queue'), record(b, 'city:queue')];
    // a second vote: the staff sockets get the tally; the demoted ones the participant count, as any resident
    const counts = [a, b, others].map((x) => nextEvent(x, 'poll:participants', (f) => f.pollId === pollId && f.participants === 2));
    const staffTallies = [mod1, mod2].map((x) => nextEvent(x, 'poll:tally', (f) => f.participants === 2));
    const voter2 = await cityUser(s1.ctx);
    expect((await fetch(`${s1.url}/api/polls/${pollId}/ballots`, { method: 'POST', headers: voter2.headers, body: JSON.stringify({ answers: { q1: ['b'] } }) })).status).toBe(201);
    await Promise.all([...counts, ...staffTallies]);
    // a second report: the moderators on both servers get it, the demoted sockets nothing (a round trip on
    // each after the moderators' frames: anything sent to them before would have arrived by then)
    const staffQueued = [mod1, mod2].map((x) => nextEvent(x, 'city:queue', (f) => f.step === 'submitted'));
    const second = await cityApi(s1.url).file(reporter, reportFields({ district: 'khamovniki' }));
    for (const f of await Promise.all(staffQueued)) expect(f.reportId).toBe(second.body.id);
    for (const x of [a, b]) expect((await ask(x, 'ping:server')).ok).toBe(true);
    expect([tallyA.length, tallyB.length, queueA.length, queueB.length]).toEqual([0, 0, 0, 0]);
    expect(await ask(a, 'city:queue:watch')).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    expect((await ask(b, 'poll:watch', { pollId })).data).toMatchObject({ canSeeResults: false, snapshot: null, eligibleResidents: null });
    expect([a.connected, b.connected]).toEqual([true, true]);
  });

  it('when a user signs out everywhere, then their open sockets turn anonymous: they leave the user\'s room and its staff rooms', async () => {
    const staffer = await cityUser(s1.ctx, ['moderator']);
    const pollId = await createActivePoll(s1.ctx, moderator.user);
    const x = await socket(s2, staffer);
    expect((await ask(x, 'poll:watch', { pollId })).data.canSeeResults).toBe(true);
    expect((await ask(x, 'city:queue:watch')).ok).toBe(true);
    const anonymous = nextEvent(x, 'session', (f) => f.userId === null);
    await s1.ctx.sessions.destroyAllOf(staffer.user.id);
    expect(await anonymous).toEqual({ userId: null, roles: [] });
    expect(await ask(x, 'city:queue:watch')).toMatchObject({ ok: false, error: { code: 'unauthenticated' } });
    expect((await ask(x, 'poll:watch', { pollId })).data.canSeeResults).toBe(false);
  });

  it('when a socket is away while its user loses the moderator role and signs out everywhere, then on recovery its restored rooms are re-checked: no staff tallies, no city queue, no more of that user\'s events', async () => {
    const staffer = await cityUser(s1.ctx, ['moderator']);
    const pollId = await createActivePoll(s1.ctx, moderator.user);
    const x = await connectSocket(s1.url, { cookie: staffer.cookie }); // reconnects by itself
    open.push(x);
    const control = await socket(s1, moderator); // staff all along, on the same server
    for (const w of [x, control]) {
      expect((await ask(w, 'poll:watch', { pollId })).data.canSeeResults).toBe(true);
      expect((await ask(w, 'city:queue:watch')).ok).toBe(true);
    }
    const gone = new Promise((res) => x.once('disconnect', res));
    const back = new Promise<boolean>((res) => x.once('connect', () => res(x.recovered)));
    x.io.engine.close(); // drop the transport: the client reconnects with its recovery offset
    await gone;
    await setRoles(staffer, []);
    await s1.ctx.sessions.destroyAllOf(staffer.user.id);
    const anonymous = nextEvent(x, 'session', (f) => f.userId === null);
    expect(await back).toBe(true);
    await anonymous;
    const [tallies, queue, notes] = [record(x, 'poll:tally'), record(x, 'city:queue'), record(x, 'notification')];
    // what the control gets, the recovered socket would have got by the time it answers a ping (same server)
    const counts = nextEvent(x, 'poll:participants', (f) => f.pollId === pollId && f.participants === 1);
    const staffTally = nextEvent(control, 'poll:tally', (f) => f.pollId === pollId && f.participants === 1);
    expect((await fetch(`${s1.url}/api/polls/${pollId}/ballots`, { method: 'POST', headers: voter.headers, body: JSON.stringify({ answers: { q1: ['a'] } }) })).status).toBe(201);
    await Promise.all([counts, staffTally]);
    const staffQueued = nextEvent(control, 'city:queue', (f) => f.step === 'submitted');
    await cityApi(s1.url).file(reporter, reportFields({ district: 'khamovniki' }));
    await staffQueued;
    const note = nextEvent(control, 'notification', (f) => f.id === 'n-both');
    s1.ctx.realtime.toRooms([rooms.user(staffer.user.id), rooms.user(moderator.user.id)], 'notification', { id: 'n-both', kind: 'test', title: 't', body: 'b', createdAt: new Date().toISOString(), unread: 1 });
    await note;
    expect((await ask(x, 'ping:server')).ok).toBe(true);
    expect([tallies.length, queue.length, notes.length]).toEqual([0, 0, 0]);
  });
});
