import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { awardBatchJobId } from '../../shared/jobs.ts';
import { testServer } from '../helpers/context.ts';
import { createTestUser } from '../helpers/users.ts';
import { publishedPoll, pollSnapshot, pollBody } from '../helpers/polls.ts';
import { until } from '../helpers/processes.ts';
import type { RunningServer } from '../../server/main.ts';
import type { User } from '../../shared/users.ts';

describe('ballots: POST /api/polls/:id/ballots', () => {
  let s: RunningServer & { url: string };
  let mod: User;
  beforeAll(async () => {
    s = await testServer();
    mod = (await createTestUser(s.ctx, { roles: ['moderator'] })).user;
  });
  afterAll(async () => {
    await s?.close();
  });

  const cast = (pollId: number, headers: Record<string, string>, body: unknown) =>
    fetch(`${s.url}/api/polls/${pollId}/ballots`, { method: 'POST', headers, body: typeof body === 'string' ? body : JSON.stringify(body) });
  const good = { answers: { q1: ['o2'], q2: ['o1', 'o3'] } };

  it('when one user sends 200 ballots concurrently, then exactly one is accepted and 199 get already_voted with the same receipt', async () => {
    const poll = await publishedPoll(s.ctx, mod);
    const { headers, user } = await createTestUser(s.ctx);
    const replies = await Promise.all(
      Array.from({ length: 200 }, async () => {
        const r = await cast(poll.id, headers, good);
        return { status: r.status, body: (await r.json()) as any };
      }),
    );
    const accepted = replies.filter((r) => r.status === 201);
    const refused = replies.filter((r) => r.status === 409);
    expect(accepted).toHaveLength(1);
    expect(refused).toHaveLength(199);
    const receipt = accepted[0].body.receipt;
    expect(receipt).toMatch(/^[A-Za-z0-9_-]{22}$/);
    for (const r of refused) {
      expect(r.body.error.code).toBe('already_voted');
      expect(r.body.error.details.receipt).toBe(receipt);
    }
    const integrity = await s.ctx.ballots.integrity(poll.id);
    expect(integrity).toMatchObject({ votersMarked: 1, ledgerLength: 1, ballots: 1, ok: true, perQuestion: { q1: 1, q2: 1, q3: 0 } });
    const results = await s.ctx.ballots.results(poll.id);
    expect(results.questions[0].options.map((o) => o.count)).toEqual([0, 1, 0]);
    expect(results.questions[1].options.map((o) => o.count)).toEqual([1, 0, 1, 0]);
    expect(await s.ctx.ballots.hasVoted(poll.id, user.id)).toBe(true);
    // a later retry (say after a lost reply) gets the same receipt too
    const retry = await cast(poll.id, headers, good);
    expect(retry.status).toBe(409);
    expect(((await retry.json()) as any).error.details.receipt).toBe(receipt);
  });

  it('when the same user votes through two server processes at once, then exactly one ballot is accepted', async () => {
    const s2 = await testServer({ REDIS_PREFIX: s.ctx.config.REDIS_PREFIX });
    try {
      const poll = await publishedPoll(s.ctx, mod, { shards: 4 });
      const { headers } = await createTestUser(s.ctx);
      const statuses = await Promise.all(
        Array.from({ length: 60 }, async (_, i) => (await fetch(`${i % 2 ? s2.url : s.url}/api/polls/${poll.id}/ballots`, { method: 'POST', headers, body: JSON.stringify(good) })).status),
      );
      expect(statuses.filter((x) => x === 201)).toHaveLength(1);
      expect(statuses.filter((x) => x === 409)).toHaveLength(59);
      expect(await s.ctx.ballots.integrity(poll.id)).toMatchObject({ votersMarked: 1, ledgerLength: 1, ballots: 1, ok: true });
    } finally {
      await s2.close();
    }
  });

  it('when a ballot is accepted, then the ledger carries the receipt\'s tag (SHA-256 of the keyed receipt), never the user id, and the voter is queued once for the shard\'s award batch (a job naming no voter)', async () => {
    const poll = await publishedPoll(s.ctx, mod, { points: 7 });
    const { headers, user } = await createTestUser(s.ctx);
    const r = await cast(poll.id, headers, { answers: { q1: ['o1'], q2: ['o4'], q3: ['no'] } });
    expect(r.status).toBe(201);
    const { receipt } = (await r.json()) as any;
    const ballots = (await import('../../server/ballots/ballot.store.ts')).createBallotStore(s.ctx.redis, s.ctx.keys);
    const entries = await ballots.ledger(poll.id, 0);
    expect(entries).toHaveLength(1);
    const f = entries[0].fields;
    expect(Object.keys(f).sort()).toEqual(['a', 't', 'v']);
    expect(f.v).toMatch(/^[0-9a-f]{64}$/);
    expect(Object.values(f)).not.toContain(String(user.id));
    // the tag of a keyed receipt: without APP_SECRET nobody can link it to the user; its voter can find it
    const { createHash, createHmac } = await import('node:crypto');
    expect(receipt).toBe(createHmac('sha256', s.ctx.config.APP_SECRET).update(`receipt:${poll.id}:${user.id}`).digest('base64url').slice(0, 22));
    expect(f.v).toBe(createHash('sha256').update(receipt).digest('hex'));
    expect(f.v).not.toBe(receipt);
    expect(JSON.parse(f.a)).toEqual({ q1: ['o1'], q2: ['o4'], q3: ['no'] });
    expect(await s.ctx.redis.smembers(s.ctx.keys.pollAwardPending(poll.id, 0))).toEqual([String(user.id)]);
    const job = await s.ctx.queues.points.getJob(awardBatchJobId({ pollId: poll.id, shard: 0, batch: 1 }));
    expect(job?.data).toEqual({ pollId: poll.id, shard: 0, batch: 1 });
    expect(await s.ctx.queues.points.getJob(`award-vote-${poll.id}-${user.id}`)).toBeUndefined();
  });

  it('when a vote arrives 1 ms or more after closesAt and no close job ran, then 409 poll_closed and nothing changes', async () => {
    const redisNow = async () => {
      const [sec, usec] = await s.ctx.redis.time();
      return Number(sec) * 1000 + Math.floor(Number(usec) / 1000);
    };
    const closesAtMs = (await redisNow()) + 700;
    const poll = await publishedPoll(s.ctx, mod, { closesAt: new Date(closesAtMs).toISOString() });
    const early = await createTestUser(s.ctx);
    expect((await cast(poll.id, early.headers, good)).status).toBe(201);
    const late = await createTestUser(s.ctx);
    await until(async () => (await redisNow()) >= closesAtMs + 1, 5000, 5);
    const before = await pollSnapshot(s.ctx, poll.id);
    const r = await cast(poll.id, late.headers, good);
    expect(r.status).toBe(409);
    expect(((await r.json()) as any).error.code).toBe('poll_closed');
    expect(await pollSnapshot(s.ctx, poll.id)).toEqual(before);
    // no close job has run: the stored state is still the published one, its close job still waits
    expect(await s.ctx.redis.hget(s.ctx.keys.poll(poll.id), 'state')).toBe('scheduled');
    expect(await (await s.ctx.queues.lifecycle.getJob(`close-${poll.id}`))?.getState()).toMatch(/delayed|waiting/);
    // reads compute the status from the clock
    expect((await s.ctx.polls.get(poll.id))?.status).toBe('closed');
  });

  it('when the cast script runs at or past the stored closesAt to the millisecond, then it refuses; inside the window it accepts', async () => {
    // the store-level check: the window copy in the shard slot is all the script looks at (Redis TIME)
    const poll = await publishedPoll(s.ctx, mod);
    const stateKey = s.ctx.keys.pollShardState(poll.id, 0);
    const [sec, usec] = await s.ctx.redis.time();
    const nowMs = Number(sec) * 1000 + Math.floor(Number(usec) / 1000);
    const u = await createTestUser(s.ctx);
    await s.ctx.redis.hset(stateKey, 'closesAt', String(nowMs)); // closes at "now": any later call is >= closesAt
    await expect(s.ctx.ballots.cast(poll.id, u.user, good)).rejects.toMatchObject({ code: 'poll_closed' });
    await s.ctx.redis.hset(stateKey, { opensAt: String(nowMs + 60_000), closesAt: String(nowMs + 120_000) });
    await expect(s.ctx.ballots.cast(poll.id, u.user, good)).rejects.toMatchObject({ code: 'poll_not_open' });
    await s.ctx.redis.hset(stateKey, { opensAt: String(nowMs - 1000), closesAt: String(nowMs + 60_000) });
    await expect(s.ctx.ballots.cast(poll.id, u.user, good)).resolves.toMatchObject({ pollId: poll.id });
    expect((await s.ctx.ballots.integrity(poll.id)).ballots).toBe(1);
  });

  it('when a ballot is malformed, then 400 with a clear message and details, and nothing in Redis changes', async () => {
    const poll = await publishedPoll(s.ctx, mod);
    const { headers } = await createTestUser(s.ctx);
    const cases: { name: string; body: unknown; code?: string; message: RegExp; status?: number }[] = [
      { name: 'unknown option', body: { answers: { q1: ['o9'], q2: ['o1'] } }, message: /unknown option "o9"/ },
      { name: 'too many choices (multi)', body: { answers: { q1: ['o1'], q2: ['o1', 'o2', 'o3'] } }, message: /at most 2 choices/ },
      { name: 'two choices on a single question', body: { answers: { q1: ['o1', 'o2'], q2: ['o1'] } }, message: /exactly one choice/ },
      { name: 'same option twice', body: { answers: { q1: ['o1'], q2: ['o1', 'o1'] } }, message: /chosen twice/ },
      { name: 'missing required question', body: { answers: { q1: ['o1'] } }, message: /"q2" is required/ },
      { name: 'required question answered with []', body: { answers: { q1: [], q2: ['o1'] } }, message: /"q1" is required/ },
      { name: 'unknown question', body: { answers: { q1: ['o1'], q2: ['o1'], q9: ['o1'] } }, message: /unknown question "q9"/ },
      { name: 'answers not an object', body: { answers: 'o1' }, message: /Invalid ballot/ },
      { name: 'choice not an array', body: { answers: { q1: 'o1', q2: ['o1'] } }, message: /Invalid ballot/ },
      { name: 'choice of wrong type', body: { answers: { q1: [1], q2: ['o1'] } }, message: /Invalid ballot/ },
      { name: 'no answers at all', body: {}, message: /Invalid ballot/ },
      { name: 'an extra field', body: { ...good, userId: 1 }, message: /Invalid ballot/ },
      { name: 'an array body', body: [good], message: /Invalid ballot/ },
      { name: 'a weird question id', body: { answers: { 'q1:o1': ['o1'], q1: ['o1'], q2: ['o1'] } }, message: /Invalid ballot/ },
      { name: 'not JSON', body: '{"answers":', code: 'invalid_json', message: /not valid JSON/ },
    ];
    const before = await pollSnapshot(s.ctx, poll.id);
    for (const c of cases) {
      const r = await cast(poll.id, headers, c.body);
      const text = await r.text();
      expect(r.status, c.name).toBe(400);
      const body = JSON.parse(text);
      expect(body.error.code, c.name).toBe(c.code ?? 'invalid_ballot');
      expect(body.error.message, c.name).toMatch(c.message);
      if (!c.code) expect(body.error.details, c.name).toEqual(expect.arrayContaining([expect.objectContaining({ path: expect.any(String), message: expect.any(String) })]));
      expect(text, c.name).not.toMatch(/at .*\.ts:\d+/);
    }
    // a 1 MB body is refused by the API's body limit before anything reads it (413, the platform-wide rule)
    const big = await cast(poll.id, headers, { answers: { q1: ['o1'], q2: ['o1'] }, pad: 'x'.repeat(1024 * 1024) });
    expect(big.status).toBe(413);
    expect(((await big.json()) as any).error.code).toBe('payload_too_large');
    expect(await pollSnapshot(s.ctx, poll.id)).toEqual(before);
    // and the same user can still vote properly afterwards
    expect((await cast(poll.id, headers, { answers: { q1: ['o1'], q2: ['o2'], q3: [] } })).status).toBe(201);
  });

  it('when the voter is outside the audience or has no profile for a targeted poll, then 403 not_eligible and nothing changes', async () => {
    const year = new Date().getUTCFullYear();
    const poll = await publishedPoll(s.ctx, mod, { audience: { districts: ['tverskoy', 'arbat'], minAge: 30, maxAge: 60 } });
    const before = await pollSnapshot(s.ctx, poll.id);
    const outsider = await createTestUser(s.ctx, { profile: { name: 'X', district: 'basmanny', birthYear: year - 40, gender: 'male' } });
    const tooYoung = await createTestUser(s.ctx, { profile: { name: 'Y', district: 'arbat', birthYear: year - 20, gender: 'male' } });
    const tooOld = await createTestUser(s.ctx, { profile: { name: 'Z', district: 'arbat', birthYear: year - 70, gender: 'male' } });
    const noProfile = await createTestUser(s.ctx, { profile: null });
    for (const u of [outsider, tooYoung, tooOld, noProfile]) {
      const r = await cast(poll.id, u.headers, good);
      expect(r.status).toBe(403);
      expect(((await r.json()) as any).error.code).toBe('not_eligible');
    }
    expect(await pollSnapshot(s.ctx, poll.id)).toEqual(before);
    const fits = await createTestUser(s.ctx, { profile: { name: 'W', district: 'tverskoy', birthYear: year - 45, gender: 'female' } });
    expect((await cast(poll.id, fits.headers, good)).status).toBe(201);
  });

  it('when a city-wide poll gets a ballot from a resident without a profile, then it is accepted and counted as "unknown"', async () => {
    const poll = await publishedPoll(s.ctx, mod);
    const u = await createTestUser(s.ctx, { profile: null });
    expect((await cast(poll.id, u.headers, good)).status).toBe(201);
    const { tally, breakdown } = await (await import('../../server/ballots/ballot.store.ts')).createBallotStore(s.ctx.redis, s.ctx.keys).sums(poll.id, 1);
    expect(tally._ballots).toBe(1);
    expect(breakdown).toEqual({ 'd:unknown': 1, 'a:unknown': 1 });
  });

  it('when the poll is not open yet, closed early, a draft, unknown, or the caller anonymous, then the matching 4xx', async () => {
    const { headers } = await createTestUser(s.ctx);
    const later = await publishedPoll(s.ctx, mod, { opensAt: new Date(Date.now() + 3600_000).toISOString(), closesAt: new Date(Date.now() + 7200_000).toISOString() });
    let r = await cast(later.id, headers, good);
    expect([r.status, ((await r.json()) as any).error.code]).toEqual([409, 'poll_not_open']);

    const early = await publishedPoll(s.ctx, mod);
    expect(await s.ctx.polls.close(early.id)).toBe(true);
    r = await cast(early.id, headers, good);
    expect([r.status, ((await r.json()) as any).error.code]).toEqual([409, 'poll_closed']);

    const draft = await s.ctx.polls.create(pollBody(), mod);
    r = await cast(draft.id, headers, good);
    expect(r.status).toBe(404);
    r = await cast(999_999, headers, good);
    expect(r.status).toBe(404);
    r = await cast(0, headers, good);
    expect([r.status, ((await r.json()) as any).error.code]).toEqual([400, 'invalid_params']);
    const open = await publishedPoll(s.ctx, mod);
    r = await fetch(`${s.url}/api/polls/${open.id}/ballots`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(good) });
    expect(r.status).toBe(401);
  });
});
