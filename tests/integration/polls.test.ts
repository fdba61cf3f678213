import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { testServer, testContext } from '../helpers/context.ts';
import { createTestUser } from '../helpers/users.ts';
import { pollBody, publishedPoll, pollSnapshot } from '../helpers/polls.ts';
import { until } from '../helpers/processes.ts';
import { connectSocket, nextEvent, ask } from '../helpers/sockets.ts';
import type { RunningServer } from '../../server/main.ts';
import type { User } from '../../shared/users.ts';
import type { PollCreate } from '../../shared/polls.ts';

describe('polls: moderator API, feed, visibility, lifecycle', () => {
  let s: RunningServer & { url: string };
  let mod: { user: User; headers: Record<string, string> };
  let resident: { user: User; headers: Record<string, string> };
  beforeAll(async () => {
    s = await testServer();
    mod = await createTestUser(s.ctx, { roles: ['moderator'] });
    resident = await createTestUser(s.ctx);
  });
  afterAll(async () => {
    await s?.close();
  });

  const api = async (method: string, path: string, headers: Record<string, string> = {}, body?: unknown) => {
    const r = await fetch(`${s.url}/api${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    return { status: r.status, body: (await r.json()) as any };
  };
  const anon = { 'content-type': 'application/json' };

  it('when a resident or an anonymous caller uses a moderator route, then 403 / 401 and nothing is created', async () => {
    const draft = await s.ctx.polls.create(pollBody(), mod.user);
    const routes: [string, string, unknown?][] = [
      ['POST', '/polls', pollBody()],
      ['PATCH', `/polls/${draft.id}`, { title: 'Hijacked title' }],
      ['POST', `/polls/${draft.id}/publish`],
      ['POST', `/polls/${draft.id}/close`],
      ['DELETE', `/polls/${draft.id}`],
    ];
    const seq = await s.ctx.redis.get(s.ctx.keys.pollSeq());
    const before = await pollSnapshot(s.ctx, draft.id);
    for (const [m, p, b] of routes) {
      const r = await api(m, p, resident.headers, b);
      expect([r.status, r.body.error.code], `${m} ${p}`).toEqual([403, 'forbidden']);
      const a = await api(m, p, anon, b);
      expect([a.status, a.body.error.code], `${m} ${p}`).toEqual([401, 'unauthenticated']);
    }
    expect((await api('GET', '/polls?status=draft', resident.headers)).status).toBe(403);
    expect(await s.ctx.redis.get(s.ctx.keys.pollSeq())).toBe(seq);
    expect(await pollSnapshot(s.ctx, draft.id)).toEqual(before);
    // an admin may
    const admin = await createTestUser(s.ctx, { roles: ['admin'] });
    expect((await api('PATCH', `/polls/${draft.id}`, admin.headers, { title: 'Admin title' })).status).toBe(200);
  });

  it('when a moderator creates a draft, then 201 with status draft and defaults; invalid definitions get 400 with details', async () => {
    const r = await api('POST', '/polls', mod.headers, pollBody({ opensAt: null, closesAt: null, points: undefined }));
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ status: 'draft', shards: 1, points: 0, publicResults: true, audience: { districts: [], minAge: null, maxAge: null }, createdBy: mod.user.id });
    expect(r.body.questions[0].maxChoices).toBe(1);
    expect(r.body.questions[1].maxChoices).toBe(2);
    expect(r.body.questions[2].required).toBe(false);

    const q = pollBody().questions;
    const bad: [string, Partial<PollCreate> & Record<string, unknown>, RegExp][] = [
      ['one option', { questions: [{ ...q[0], options: [{ id: 'o1', label: 'Only' }] }] }, /at least 2 options/],
      ['21 options', { questions: [{ ...q[0], options: Array.from({ length: 21 }, (_, i) => ({ id: `o${i}`, label: `O${i}` })) }] }, /at most 20 options/],
      ['duplicate option id', { questions: [{ ...q[0], options: [{ id: 'o1', label: 'A' }, { id: 'o1', label: 'B' }] }] }, /duplicate option id/],
      ['duplicate question id', { questions: [q[0], { ...q[1], id: 'q1' }] }, /duplicate question id/],
      ['single with maxChoices 2', { questions: [{ ...q[0], maxChoices: 2 }] }, /single-choice question has maxChoices 1/],
      ['maxChoices above options', { questions: [{ ...q[1], maxChoices: 5 }] }, /cannot exceed the number of options/],
      ['unknown kind', { questions: [{ ...q[0], kind: 'ranked' as 'single' }] }, /.+/],
      ['no questions', { questions: [] }, /at least one question/],
      ['minAge above maxAge', { audience: { districts: [], minAge: 40, maxAge: 30 } }, /maxAge must be ≥ minAge/],
      ['bad district', { audience: { districts: ['Not A Slug!'] } }, /district slug/],
      ['closesAt before opensAt', { opensAt: '2030-01-02T00:00:00Z', closesAt: '2030-01-01T00:00:00Z' }, /closesAt must be after opensAt/],
      ['bad date', { opensAt: 'tomorrow' }, /ISO 8601/],
      ['too many shards', { shards: 65 }, /.+/],
      ['unknown field', { status: 'active' }, /.+/],
    ];
    const seq = await s.ctx.redis.get(s.ctx.keys.pollSeq());
    for (const [name, o, msg] of bad) {
      const r2 = await api('POST', '/polls', mod.headers, { ...pollBody(), ...o });
      expect(r2.status, name).toBe(400);
      expect(r2.body.error.code, name).toBe('invalid_body');
      expect(r2.body.error.details.map((d: any) => d.message).join(' | '), name).toMatch(msg);
    }
    expect(await s.ctx.redis.get(s.ctx.keys.pollSeq())).toBe(seq);
  });

  it('when a draft is edited, then the change sticks; an edit that breaks it is 400; after publishing edits are 409', async () => {
    const { body: draft } = await api('POST', '/polls', mod.headers, pollBody({ opensAt: null, closesAt: null }));
    let r = await api('PATCH', `/polls/${draft.id}`, mod.headers, { title: 'A better title', shards: 4 });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ title: 'A better title', shards: 4, status: 'draft' });
    expect(r.body.questions).toHaveLength(3);
    r = await api('PATCH', `/polls/${draft.id}`, mod.headers, {});
    expect([r.status, r.body.error.code]).toEqual([400, 'invalid_body']);
    r = await api('PATCH', `/polls/${draft.id}`, mod.headers, { opensAt: '2030-01-02T00:00:00Z', closesAt: '2030-01-01T00:00:00Z' });
    expect([r.status, r.body.error.code]).toEqual([400, 'invalid_body']);
    r = await api('PATCH', `/polls/${draft.id}`, mod.headers, { id: 7 });
    expect(r.status).toBe(400);
    expect((await s.ctx.polls.get(draft.id))?.title).toBe('A better title');

    // publishing needs both dates
    r = await api('POST', `/polls/${draft.id}/publish`, mod.headers);
    expect([r.status, r.body.error.code]).toEqual([400, 'invalid_poll']);
    expect(r.body.error.details.map((d: any) => d.path).sort()).toEqual(['closesAt', 'opensAt']);
    r = await api('PATCH', `/polls/${draft.id}`, mod.headers, { opensAt: new Date(Date.now() - 60_000).toISOString(), closesAt: new Date(Date.now() - 1000).toISOString() });
    expect(r.status).toBe(200);
    r = await api('POST', `/polls/${draft.id}/publish`, mod.headers);
    expect([r.status, r.body.error.details[0].message]).toEqual([400, 'closesAt is in the past']);
    expect((await s.ctx.polls.get(draft.id))?.status).toBe('draft');

    const closesAt = new Date(Date.now() + 3600_000).toISOString();
    await api('PATCH', `/polls/${draft.id}`, mod.headers, { closesAt });
    r = await api('POST', `/polls/${draft.id}/publish`, mod.headers);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ status: 'active', closesAt, publishedAt: expect.any(String) });
    r = await api('PATCH', `/polls/${draft.id}`, mod.headers, { title: 'Too late' });
    expect([r.status, r.body.error.code]).toEqual([409, 'invalid_state']);
    r = await api('POST', `/polls/${draft.id}/publish`, mod.headers);
    expect([r.status, r.body.error.code]).toEqual([409, 'invalid_state']);
    // every shard slot got the window the cast script checks
    for (let k = 0; k < 4; k++) {
      expect(await s.ctx.redis.hgetall(s.ctx.keys.pollShardState(draft.id, k))).toEqual({ state: 'published', opensAt: expect.any(String), closesAt: String(Date.parse(closesAt)) });
    }
  });

  it('when a moderator deletes a draft, then it is gone (404, not listed); a published poll or an unknown id cannot be deleted and stays as it was', async () => {
    const draft = await s.ctx.polls.create(pollBody({ title: 'A draft with a typo' }), mod.user);
    const del = await fetch(`${s.url}/api/polls/${draft.id}`, { method: 'DELETE', headers: mod.headers });
    expect(del.status).toBe(204);
    expect((await api('GET', `/polls/${draft.id}`, mod.headers)).status).toBe(404);
    expect((await api('GET', '/polls?status=draft', mod.headers)).body.polls.map((p: { id: number }) => p.id)).not.toContain(draft.id);
    expect(await s.ctx.redis.zscore(s.ctx.keys.pollIndex(), String(draft.id))).toBeNull();
    expect((await api('DELETE', `/polls/${draft.id}`, mod.headers)).body.error.code).toBe('not_found');

    const live = await publishedPoll(s.ctx, mod.user);
    const before = await pollSnapshot(s.ctx, live.id);
    const r = await api('DELETE', `/polls/${live.id}`, mod.headers);
    expect([r.status, r.body.error.code]).toEqual([409, 'invalid_state']);
    expect(await pollSnapshot(s.ctx, live.id)).toEqual(before);
    expect((await api('DELETE', '/polls/999999', mod.headers)).status).toBe(404);
  });

  it('when a poll is published, then open and close jobs are scheduled at opensAt and closesAt', async () => {
    const opensAt = Date.now() + 60_000;
    const closesAt = Date.now() + 120_000;
    const p = await publishedPoll(s.ctx, mod.user, { opensAt: new Date(opensAt).toISOString(), closesAt: new Date(closesAt).toISOString() });
    expect(p.status).toBe('scheduled');
    const open = await s.ctx.queues.lifecycle.getJob(`open-${p.id}`);
    const close = await s.ctx.queues.lifecycle.getJob(`close-${p.id}`);
    expect(open?.data).toEqual({ pollId: p.id });
    expect(close?.data).toEqual({ pollId: p.id });
    expect(Math.abs(open!.timestamp + open!.delay - opensAt)).toBeLessThan(1000);
    expect(Math.abs(close!.timestamp + close!.delay - closesAt)).toBeLessThan(1000);
  });

  it('when a moderator closes a poll early, then every shard refuses votes, the finalise job is queued and a second close is 409', async () => {
    const p = await publishedPoll(s.ctx, mod.user, { shards: 4 });
    const v = await createTestUser(s.ctx);
    expect((await api('POST', `/polls/${p.id}/ballots`, v.headers, { answers: { q1: ['o1'], q2: ['o1'] } })).status).toBe(201);
    let r = await api('POST', `/polls/${p.id}/close`, mod.headers);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ status: 'closed', closedAt: expect.any(String) });
    for (let k = 0; k < 4; k++) expect(await s.ctx.redis.hget(s.ctx.keys.pollShardState(p.id, k), 'state')).toBe('closed');
    expect((await s.ctx.queues.lifecycle.getJob(`finalise-${p.id}`))?.data).toEqual({ pollId: p.id });
    // voters in every shard are refused
    for (let i = 0; i < 4; i++) {
      const u = await createTestUser(s.ctx);
      const c = await api('POST', `/polls/${p.id}/ballots`, u.headers, { answers: { q1: ['o1'], q2: ['o1'] } });
      expect(c.body.error.code).toBe('poll_closed');
    }
    r = await api('POST', `/polls/${p.id}/close`, mod.headers);
    expect([r.status, r.body.error.code]).toEqual([409, 'invalid_state']);
    expect(await s.ctx.polls.close(p.id)).toBe(false);
    const draft = await s.ctx.polls.create(pollBody(), mod.user);
    r = await api('POST', `/polls/${draft.id}/close`, mod.headers);
    expect([r.status, r.body.error.code]).toEqual([409, 'invalid_state']);
  });

  it('when a poll is closed early, then sockets watching it get poll:status closed', async () => {
    const p = await publishedPoll(s.ctx, mod.user);
    const socket = await connectSocket(s.url, { cookie: mod.headers.cookie });
    try {
      const ack = await ask(socket, 'poll:watch', { pollId: p.id });
      expect(ack).toMatchObject({ ok: true, data: { status: 'active' } });
      const frame = nextEvent(socket, 'poll:status', (f) => f.pollId === p.id);
      expect((await api('POST', `/polls/${p.id}/close`, mod.headers)).status).toBe(200);
      expect(await frame).toMatchObject({ pollId: p.id, status: 'closed', at: expect.any(String) });
    } finally {
      socket.close();
    }
  });

  it('when a poll shows live results publicly (projector), then anyone may read them while it is open', async () => {
    const p = await publishedPoll(s.ctx, mod.user, { publicLive: true });
    expect((await api('GET', `/polls/${p.id}/results`, anon)).status).toBe(200);
    const hidden = await publishedPoll(s.ctx, mod.user);
    expect((await api('GET', `/polls/${hidden.id}/results`, anon)).status).toBe(403);
  });

  it('when a publish crashed before writing the shard windows, then votes are refused (not lost) and the open job repairs it', async () => {
    const draft = await s.ctx.polls.create(pollBody({ shards: 2 }), mod.user);
    // simulate the crash: the poll hash says scheduled, no shard slot has its window
    await s.ctx.redis.hset(s.ctx.keys.poll(draft.id), 'state', 'scheduled');
    const u = await createTestUser(s.ctx);
    const before = await pollSnapshot(s.ctx, draft.id);
    const r = await api('POST', `/polls/${draft.id}/ballots`, u.headers, { answers: { q1: ['o1'], q2: ['o1'] } });
    expect([r.status, r.body.error.code]).toEqual([409, 'poll_not_open']);
    expect(await pollSnapshot(s.ctx, draft.id)).toEqual(before);
    expect(await s.ctx.polls.markOpen(draft.id)).toBe(true);
    expect((await api('POST', `/polls/${draft.id}/ballots`, u.headers, { answers: { q1: ['o1'], q2: ['o1'] } })).status).toBe(201);
    expect(await s.ctx.polls.markOpen(draft.id)).toBe(false);
  });

  it('when opensAt passes and no open job ran, then the poll reads as active and accepts votes', async () => {
    const opensAt = Date.now() + 400;
    const p = await publishedPoll(s.ctx, mod.user, { opensAt: new Date(opensAt).toISOString() });
    expect(p.status).toBe('scheduled');
    const u = await createTestUser(s.ctx);
    const early = await api('POST', `/polls/${p.id}/ballots`, u.headers, { answers: { q1: ['o1'], q2: ['o1'] } });
    expect(early.body.error.code).toBe('poll_not_open');
    expect((await api('GET', '/polls?status=upcoming', u.headers)).body.polls.map((x: any) => x.id)).toContain(p.id);
    await until(async () => (await s.ctx.polls.get(p.id))?.status === 'active', 5000, 20);
    // the cast script judges by Redis TIME; allow a few ms of clock difference
    await until(async () => (await api('POST', `/polls/${p.id}/ballots`, u.headers, { answers: { q1: ['o1'], q2: ['o1'] } })).status === 201, 2000, 10);
    expect(await s.ctx.redis.hget(s.ctx.keys.poll(p.id), 'state')).toBe('scheduled');
  });

  it('when residents list polls, then they see active/upcoming polls of their audience and closed ones that are theirs or public', async () => {
    const year = new Date().getUTCFullYear();
    const ctx = s.ctx;
    const tag = `feed-${Date.now()}`;
    const mk = (o: Partial<PollCreate>) => publishedPoll(ctx, mod.user, { ...o, title: `${tag} ${o.title ?? ''}`.trim() });
    const cityWide = await mk({ title: 'city' });
    const arbat = await mk({ title: 'arbat', audience: { districts: ['arbat'] } });
    const tverskoy = await mk({ title: 'tverskoy', audience: { districts: ['tverskoy'] } });
    const seniors = await mk({ title: 'seniors', audience: { districts: [], minAge: 65 } });
    const upcoming = await mk({ title: 'upcoming', opensAt: new Date(Date.now() + 3600_000).toISOString(), closesAt: new Date(Date.now() + 7200_000).toISOString() });
    const closedPublic = await mk({ title: 'closed public', audience: { districts: ['tverskoy'] } });
    const closedPrivate = await mk({ title: 'closed private', audience: { districts: ['tverskoy'] }, publicResults: false });
    await ctx.polls.close(closedPublic.id);
    await ctx.polls.close(closedPrivate.id);
    const draft = await ctx.polls.create(pollBody({ title: `${tag} draft` }), mod.user);

    const arbatResident = await createTestUser(ctx, { profile: { name: 'A', district: 'arbat', birthYear: year - 30, gender: 'female' } });
    const ids = async (h: Record<string, string>, status: string) =>
      ((await api('GET', `/polls?status=${status}`, h)).body.polls as any[]).filter((p) => p.title.startsWith(tag)).map((p) => p.id).sort((a, b) => a - b);
    expect(await ids(arbatResident.headers, 'active')).toEqual([cityWide.id, arbat.id]);
    expect(await ids(arbatResident.headers, 'upcoming')).toEqual([upcoming.id]);
    expect(await ids(arbatResident.headers, 'closed')).toEqual([closedPublic.id]);
    expect(await ids(anon, 'active')).toEqual([cityWide.id]);
    expect(await ids(anon, 'closed')).toEqual([closedPublic.id]);
    expect(await ids(mod.headers, 'active')).toEqual([cityWide.id, arbat.id, tverskoy.id, seniors.id]);
    expect(await ids(mod.headers, 'closed')).toEqual([closedPublic.id, closedPrivate.id]);
    expect(await ids(mod.headers, 'draft')).toEqual([draft.id]);
    const bad = await api('GET', '/polls?status=everything', arbatResident.headers);
    expect([bad.status, bad.body.error.code]).toEqual([400, 'invalid_query']);
    // voted flag in the feed
    await api('POST', `/polls/${cityWide.id}/ballots`, arbatResident.headers, { answers: { q1: ['o1'], q2: ['o1'] } });
    const feed = (await api('GET', '/polls?status=active', arbatResident.headers)).body.polls as any[];
    expect(feed.find((p) => p.id === cityWide.id).voted).toBe(true);
    expect(feed.find((p) => p.id === arbat.id).voted).toBe(false);
    // drafts are invisible to residents
    expect((await api('GET', `/polls/${draft.id}`, arbatResident.headers)).status).toBe(404);
    expect((await api('GET', `/polls/${draft.id}`, mod.headers)).status).toBe(200);
  });

  it('when a resident has not voted, then results are hidden; once they voted (and enough ballots are in) or the poll closed, they are shown', async () => {
    const p = await publishedPoll(s.ctx, mod.user);
    const u = await createTestUser(s.ctx);
    let view = await api('GET', `/polls/${p.id}`, u.headers);
    expect(view.body).toMatchObject({ poll: { id: p.id, status: 'active' }, voted: false, eligible: true, results: null, withheld: null });
    let res = await api('GET', `/polls/${p.id}/results`, u.headers);
    expect([res.status, res.body.error.code]).toEqual([403, 'forbidden']);
    expect((await api('GET', `/polls/${p.id}/results`, anon)).status).toBe(403);
    expect((await api('GET', `/polls/${p.id}/results`, mod.headers)).status).toBe(200);

    expect((await api('POST', `/polls/${p.id}/ballots`, u.headers, { answers: { q1: ['o3'], q2: ['o2', 'o4'] } })).status).toBe(201);
    // four more voters: RESULTS_MIN_GROUP_SIZE (5) ballots, so totals show (the threshold has its own test)
    for (let i = 0; i < 4; i++) {
      const v = await createTestUser(s.ctx);
      expect((await api('POST', `/polls/${p.id}/ballots`, v.headers, { answers: { q1: ['o1'], q2: ['o1'] } })).status).toBe(201);
    }
    view = await api('GET', `/polls/${p.id}`, u.headers);
    expect(view.body.voted).toBe(true);
    expect(view.body.results).toMatchObject({ pollId: p.id, ballots: 5, version: 5 });
    res = await api('GET', `/polls/${p.id}/results`, u.headers);
    expect(res.status).toBe(200);
    expect(res.body.questions).toEqual([
      // respondents: ballots that answered the question (the optional q3 was skipped by all)
      { id: 'q1', respondents: 5, options: [{ id: 'o1', count: 4 }, { id: 'o2', count: 0 }, { id: 'o3', count: 1 }] },
      { id: 'q2', respondents: 5, options: [{ id: 'o1', count: 4 }, { id: 'o2', count: 1 }, { id: 'o3', count: 0 }, { id: 'o4', count: 1 }] },
      { id: 'q3', respondents: 0, options: [{ id: 'yes', count: 0 }, { id: 'no', count: 0 }] },
    ]);

    await s.ctx.polls.close(p.id);
    const other = await createTestUser(s.ctx);
    expect((await api('GET', `/polls/${p.id}/results`, other.headers)).status).toBe(200);
    expect((await api('GET', `/polls/${p.id}`, anon)).body).toMatchObject({ voted: null, eligible: null, results: { ballots: 5 } });
  });

  it('when fewer ballots than RESULTS_MIN_GROUP_SIZE are in, then non-staff get no totals (HTTP, socket, archive) but a "withheld" note, staff see them, and from the threshold on they show', async () => {
    const p = await publishedPoll(s.ctx, mod.user, { publicLive: true });
    const first = await createTestUser(s.ctx);
    expect((await api('POST', `/polls/${p.id}/ballots`, first.headers, { answers: { q1: ['o2'], q2: ['o3'] } })).status).toBe(201);
    // one ballot: its totals would be that voter's choice, for the voter, a public-live viewer or anyone after close
    for (const who of [first.headers, anon]) {
      const v = await api('GET', `/polls/${p.id}`, who);
      expect(v.body).toMatchObject({ results: null, withheld: { minGroup: 5 } });
      const r = await api('GET', `/polls/${p.id}/results`, who);
      expect([r.status, r.body.error.code, r.body.error.details]).toEqual([403, 'forbidden', { minGroup: 5 }]);
    }
    expect((await api('GET', `/polls/${p.id}`, mod.headers)).body).toMatchObject({ results: { ballots: 1 }, withheld: null });
    // the socket: the voter watches and gets participant counts only, with the threshold to wait for
    const socket = await connectSocket(s.url, { cookie: first.cookie });
    try {
      const ack = await ask(socket, 'poll:watch', { pollId: p.id });
      expect(ack).toMatchObject({ ok: true, data: { canSeeResults: false, snapshot: null, participants: 1, withheld: { minGroup: 5 } } });
      // four more: the threshold is reached; the participant count says so and a re-watch gets the tallies
      const reached = nextEvent(socket, 'poll:participants', (f) => f.pollId === p.id && f.participants === 5);
      for (let i = 0; i < 4; i++) {
        const v = await createTestUser(s.ctx);
        expect((await api('POST', `/polls/${p.id}/ballots`, v.headers, { answers: { q1: ['o1'], q2: ['o1'] } })).status).toBe(201);
      }
      await reached;
      const again = await ask(socket, 'poll:watch', { pollId: p.id });
      expect(again).toMatchObject({ ok: true, data: { canSeeResults: true, withheld: null, snapshot: { results: { ballots: 5 } } } });
    } finally {
      socket.disconnect();
    }
    expect((await api('GET', `/polls/${p.id}`, anon)).body).toMatchObject({ results: { ballots: 5 }, withheld: null });

    // the archive (anonymous) hides a closed poll's totals under the threshold too; city hall sees them
    const few = await publishedPoll(s.ctx, mod.user, { title: 'Two voters only, closed' });
    for (let i = 0; i < 2; i++) await api('POST', `/polls/${few.id}/ballots`, (await createTestUser(s.ctx)).headers, { answers: { q1: ['o1'], q2: ['o1'] } });
    await s.ctx.polls.close(few.id);
    const item = async (headers: Record<string, string>) =>
      ((await api('GET', `/archive?q=${encodeURIComponent('Two voters only')}`, headers)).body.items as { pollId: number; results: unknown }[]).find((i) => i.pollId === few.id);
    expect((await item(anon))?.results).toBeNull();
    expect((await item(mod.headers))?.results).toMatchObject({ ballots: 2 });
  });

  it('when ballots arrive, then the staff per-minute series counts them in the current minute from the ledger (surviving any reload); residents get 403, bad queries 400', async () => {
    const p = await publishedPoll(s.ctx, mod.user, { shards: 2 });
    for (let i = 0; i < 3; i++) {
      const v = await createTestUser(s.ctx);
      expect((await api('POST', `/polls/${p.id}/ballots`, v.headers, { answers: { q1: ['o1'], q2: ['o1'] } })).status).toBe(201);
    }
    const r = await api('GET', `/polls/${p.id}/rate?minutes=5`, mod.headers);
    expect(r.status).toBe(200);
    expect(r.body.perMinute).toHaveLength(5);
    // the three ballots landed within the last minute or two (a slow machine may straddle a minute boundary)
    expect(r.body.perMinute.reduce((a: number, b: number) => a + b, 0)).toBe(3);
    expect(r.body.perMinute.slice(0, 3)).toEqual([0, 0, 0]);
    expect(r.body.complete).toBe(true);
    expect((await api('GET', `/polls/${p.id}/rate`, resident.headers)).status).toBe(403);
    expect((await api('GET', `/polls/${p.id}/rate?minutes=0`, mod.headers)).body.error.code).toBe('invalid_query');
    expect((await api('GET', `/polls/${p.id}/rate?window=5`, mod.headers)).body.error.code).toBe('invalid_query');
    expect((await api('GET', '/polls/999999/rate', mod.headers)).status).toBe(404);
  });

  it('when breakdown groups are smaller than the threshold, then they are merged into "other" so no small group shows', async () => {
    const year = new Date().getUTCFullYear();
    const p = await publishedPoll(s.ctx, mod.user);
    const plan: [string, number, number][] = [
      ['arbat', 6, year - 30],
      ['tverskoy', 5, year - 70],
      ['presnensky', 2, year - 30],
      ['basmanny', 1, year - 50],
    ];
    for (const [district, n, birthYear] of plan) {
      for (let i = 0; i < n; i++) {
        const u = await createTestUser(s.ctx, { profile: { name: 'V', district, birthYear, gender: 'male' } });
        await s.ctx.ballots.cast(p.id, u.user, { answers: { q1: ['o1'], q2: ['o1'] } });
      }
    }
    const r = await s.ctx.ballots.results(p.id);
    expect(r.ballots).toBe(14);
    // presnensky (2) + basmanny (1) = 3 < 5, so the smallest visible group (tverskoy, 5) is folded in too
    expect(r.breakdown.district).toEqual([{ key: 'arbat', ballots: 6 }, { key: 'other', ballots: 8 }]);
    // 25-34: 8, 65plus: 5, 45-54: 1 → "other" would be 1, so 65plus is folded in as well
    expect(r.breakdown.ageBand).toEqual([{ key: '25-34', ballots: 8 }, { key: 'other', ballots: 6 }]);
    expect(r.breakdown.district.reduce((a, g) => a + g.ballots, 0)).toBe(14);
  });

  it('when a closed poll is finalised twice, then the first snapshot stays and later votes or tallies cannot change it', async () => {
    const p = await publishedPoll(s.ctx, mod.user);
    const u = await createTestUser(s.ctx);
    await s.ctx.ballots.cast(p.id, u.user, { answers: { q1: ['o2'], q2: ['o3'] } });
    await expect(s.ctx.polls.markFinalised(p.id, await s.ctx.ballots.results(p.id))).rejects.toMatchObject({ code: 'invalid_state' });
    expect(await s.ctx.polls.getFinal(p.id)).toBeNull();
    await s.ctx.polls.close(p.id);
    const first = await s.ctx.polls.markFinalised(p.id, { results: await s.ctx.ballots.results(p.id), integrity: { votersMarked: 1, ledgerLength: 1, ballots: 1, ok: true } });
    expect(first.results.ballots).toBe(1);
    const fake = { ...(await s.ctx.ballots.results(p.id)), ballots: 999 };
    const second = await s.ctx.polls.markFinalised(p.id, fake);
    expect(second).toEqual(first);
    expect(await s.ctx.polls.getFinal(p.id)).toEqual(first);
    expect((await s.ctx.polls.get(p.id))?.status).toBe('finalised');
    expect(await s.ctx.redis.hget(s.ctx.keys.pollShardState(p.id, 0), 'state')).toBe('finalised');
    const res = await api('GET', `/polls/${p.id}/results`, mod.headers);
    expect(res.body).toEqual(first.results);
  });

  it('when another process closes a poll, then this process stops showing it active at once (pub/sub cache invalidation)', async () => {
    const other = testContext({ REDIS_PREFIX: s.ctx.config.REDIS_PREFIX });
    try {
      const p = await publishedPoll(s.ctx, mod.user);
      expect((await other.polls.get(p.id))?.status).toBe('active'); // now cached in `other`
      await s.ctx.polls.close(p.id);
      await until(async () => (await other.polls.get(p.id))?.status === 'closed', 1000, 10);
    } finally {
      await other.close();
    }
  });

  it('when votes land on S=1 and S=4 polls, then tallyVersions sums shard versions in one call and voterIds walks every shard', async () => {
    const p1 = await publishedPoll(s.ctx, mod.user, { shards: 1, points: 0 });
    const p4 = await publishedPoll(s.ctx, mod.user, { shards: 4, points: 0 });
    const voters: number[] = [];
    for (let i = 0; i < 9; i++) {
      const u = await createTestUser(s.ctx, { profile: null });
      voters.push(u.user.id);
      await s.ctx.ballots.cast(p4.id, u.user, { answers: { q1: ['o1'], q2: ['o2'] } });
      if (i < 3) await s.ctx.ballots.cast(p1.id, u.user, { answers: { q1: ['o1'], q2: ['o2'] } });
    }
    const shardsUsed = new Set(voters.map((id) => id % 4));
    expect(shardsUsed.size).toBe(4);
    expect(await s.ctx.ballots.tallyVersions([p1.id, p4.id, 987_654])).toEqual([3, 9, 0]);
    const seen: number[] = [];
    for await (const chunk of s.ctx.ballots.voterIds(p4.id, 8)) seen.push(...chunk);
    expect(seen.sort((a, b) => a - b)).toEqual([...voters].sort((a, b) => a - b));
    const seen1: number[] = [];
    for await (const chunk of s.ctx.ballots.voterIds(p1.id)) seen1.push(...chunk);
    expect(seen1.sort((a, b) => a - b)).toEqual(voters.slice(0, 3).sort((a, b) => a - b));
    for (const id of voters) expect(await s.ctx.ballots.hasVoted(p4.id, id)).toBe(true);
  });
});
