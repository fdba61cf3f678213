import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { testServer, testLogger } from '../helpers/context.ts';
import { createTestUser } from '../helpers/users.ts';
import { publishedPoll } from '../helpers/polls.ts';
import { finalisedPoll } from '../helpers/decisions.ts';
import { until } from '../helpers/processes.ts';
import { connectSocket, nextEvent, record } from '../helpers/sockets.ts';
import { startWorkers, type RunningWorker } from '../../server/worker.ts';
import { addWorkingDays, createCalendar } from '../../server/decisions/working-days.ts';
import { decisionNotification } from '../../server/notifications/fanout.job.ts';
import type { RunningServer } from '../../server/main.ts';
import type { User } from '../../shared/users.ts';

type Who = { user: User; headers: Record<string, string>; cookie: string };

describe('decisions: officials answer finalised polls; voters hear about it', () => {
  let s: RunningServer & { url: string };
  let w: RunningWorker;
  let mod: Who;
  let official: Who;
  let resident: Who;
  beforeAll(async () => {
    s = await testServer({ ANSWER_DEADLINE_WORKING_DAYS: '8' });
    w = await startWorkers(s.ctx.config, testLogger, { concurrency: 4 });
    mod = await createTestUser(s.ctx, { roles: ['moderator'] });
    official = await createTestUser(s.ctx, { roles: ['official'] });
    resident = await createTestUser(s.ctx);
  });
  afterAll(async () => {
    await w?.close();
    await s?.close();
  });

  const api = async (method: string, path: string, headers: Record<string, string> = {}, body?: unknown) => {
    const r = await fetch(`${s.url}/api${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await r.text();
    return { status: r.status, headers: r.headers, text, body: (text && r.headers.get('content-type')?.includes('json') ? JSON.parse(text) : null) as any };
  };
  const decisionKeys = async (pollId: number) => [await s.ctx.redis.exists(s.ctx.keys.decision(pollId)), await s.ctx.redis.exists(s.ctx.keys.decisionTimeline(pollId))];
  const decision = { summary: 'The park goes north', body: 'Construction starts in spring; the playground and the pond are in.' };

  it('when a decision is published on a poll that is not finalised (active, or closed but not yet finalised), then 409 invalid_state and nothing is stored', async () => {
    const active = await publishedPoll(s.ctx, mod.user);
    let r = await api('POST', `/polls/${active.id}/decision`, official.headers, decision);
    expect([r.status, r.body.error.code]).toEqual([409, 'invalid_state']);
    expect(await decisionKeys(active.id)).toEqual([0, 0]);

    await w.close(); // no worker: the finalise job that close() enqueues must not run while we ask
    try {
      const closed = await publishedPoll(s.ctx, mod.user);
      await s.ctx.polls.close(closed.id);
      expect((await s.ctx.polls.get(closed.id))?.status).toBe('closed');
      r = await api('POST', `/polls/${closed.id}/decision`, official.headers, decision);
      expect([r.status, r.body.error.code]).toEqual([409, 'invalid_state']);
      expect(await decisionKeys(closed.id)).toEqual([0, 0]);
      // and the store step itself refuses without a final snapshot, whatever a caller checked before
      expect(await s.ctx.decisionStore.step(closed.id, ['none'], 'decided', null, { summary: 'x', body: 'y' })).toEqual({ kind: 'not_finalised' });
      expect(await decisionKeys(closed.id)).toEqual([0, 0]);
      // moving a decision that does not exist
      r = await api('POST', `/polls/${active.id}/decision/status`, official.headers, { status: 'in_progress' });
      expect([r.status, r.body.error.code]).toEqual([409, 'invalid_state']);
    } finally {
      w = await startWorkers(s.ctx.config, testLogger, { concurrency: 4 });
    }
  });

  it('when the caller is not an official, the poll is unknown or the body is bad, then 401/403/404/400 and nothing is stored', async () => {
    const { poll } = await finalisedPoll(s.ctx, mod.user, []);
    const cases: [Record<string, string>, string, unknown, number, string][] = [
      [{ 'content-type': 'application/json', origin: 'http://app.test' }, `/polls/${poll.id}/decision`, decision, 401, 'unauthenticated'],
      [resident.headers, `/polls/${poll.id}/decision`, decision, 403, 'forbidden'],
      [mod.headers, `/polls/${poll.id}/decision`, decision, 403, 'forbidden'],
      [official.headers, `/polls/999999/decision`, decision, 404, 'not_found'],
      [official.headers, `/polls/abc/decision`, decision, 400, 'invalid_params'],
      [official.headers, `/polls/${poll.id}/decision`, { summary: 'x' }, 400, 'invalid_body'],
      [official.headers, `/polls/${poll.id}/decision`, { ...decision, extra: 1 }, 400, 'invalid_body'],
      [official.headers, `/polls/${poll.id}/decision`, [], 400, 'invalid_body'],
      [{ ...official.headers, origin: 'http://evil.test' }, `/polls/${poll.id}/decision`, decision, 403, 'csrf_rejected'],
    ];
    for (const [h, path, body, status, code] of cases) {
      const r = await api('POST', path, h, body);
      expect([r.status, r.body?.error?.code], `${path} ${JSON.stringify(body)}`).toEqual([status, code]);
    }
    expect(await decisionKeys(poll.id)).toEqual([0, 0]);
  });

  it('when a decision moves, then only decided → in_progress → implemented (or → rejected with a reason) is allowed, each step timestamped on a public timeline', async () => {
    const { poll } = await finalisedPoll(s.ctx, mod.user, []);
    let r = await api('POST', `/polls/${poll.id}/decision`, official.headers, decision);
    expect(r.status).toBe(201);
    expect(r.body.decision).toMatchObject({ status: 'decided', ...decision, reason: null, timeline: [{ seq: 1, status: 'decided', note: null }] });
    // only once
    r = await api('POST', `/polls/${poll.id}/decision`, official.headers, decision);
    expect([r.status, r.body.error.code]).toEqual([409, 'conflict']);
    // no skipping
    r = await api('POST', `/polls/${poll.id}/decision/status`, official.headers, { status: 'implemented' });
    expect([r.status, r.body.error.code, r.body.error.details]).toEqual([409, 'invalid_state', { status: 'decided', allowed: ['in_progress', 'rejected'] }]);
    // a rejection needs a reason; a reason is only for a rejection
    r = await api('POST', `/polls/${poll.id}/decision/status`, official.headers, { status: 'rejected' });
    expect([r.status, r.body.error.code, r.body.error.details[0].path]).toEqual([400, 'invalid_body', 'reason']);
    r = await api('POST', `/polls/${poll.id}/decision/status`, official.headers, { status: 'in_progress', reason: 'why not' });
    expect(r.status).toBe(400);
    r = await api('POST', `/polls/${poll.id}/decision/status`, official.headers, { status: 'done' });
    expect(r.status).toBe(400);
    expect((await s.ctx.decisionStore.get(poll.id))?.timeline).toHaveLength(1);

    r = await api('POST', `/polls/${poll.id}/decision/status`, official.headers, { status: 'in_progress', note: 'Contractor chosen' });
    expect(r.status).toBe(200);
    r = await api('POST', `/polls/${poll.id}/decision/status`, official.headers, { status: 'implemented' });
    expect(r.body.decision.status).toBe('implemented');
    r = await api('POST', `/polls/${poll.id}/decision/status`, official.headers, { status: 'rejected', reason: 'Too late to change our minds' });
    expect([r.status, r.body.error.code]).toEqual([409, 'invalid_state']);

    // public, anonymous
    r = await api('GET', `/polls/${poll.id}/decision`);
    expect(r.status).toBe(200);
    const t = r.body.decision.timeline;
    expect(t.map((e: any) => [e.seq, e.status, e.note])).toEqual([[1, 'decided', null], [2, 'in_progress', 'Contractor chosen'], [3, 'implemented', null]]);
    const times = t.map((e: any) => Date.parse(e.at));
    expect(times.every((x: number, i: number) => Number.isFinite(x) && (i === 0 || x >= times[i - 1]))).toBe(true);
    expect(r.body.decision.createdAt).toBe(t[0].at);
    expect(r.body.decision.updatedAt).toBe(t[2].at);
    expect(JSON.stringify(r.body)).not.toMatch(/"by/); // who clicked stays internal

    // the other branch: decided → rejected with its reason
    const { poll: p2 } = await finalisedPoll(s.ctx, mod.user, []);
    await api('POST', `/polls/${p2.id}/decision`, official.headers, decision);
    r = await api('POST', `/polls/${p2.id}/decision/status`, official.headers, { status: 'rejected', reason: 'The site is a protected area' });
    expect(r.body.decision).toMatchObject({ status: 'rejected', reason: 'The site is a protected area' });
    expect(r.body.decision.timeline[1]).toMatchObject({ status: 'rejected', note: 'The site is a protected area' });
  });

  it('when nobody answers, then the public view counts down to the deadline (8 working days after finalisation) and flags overdue right after it; an answer clears it', async () => {
    const { poll } = await finalisedPoll(s.ctx, mod.user, []);
    const fin = Date.parse(poll.finalisedAt!);
    const deadline = addWorkingDays(fin, 8, createCalendar());
    let r = await api('GET', `/polls/${poll.id}/decision`);
    expect(r.body).toMatchObject({ pollId: poll.id, finalisedAt: poll.finalisedAt, answerDeadline: new Date(deadline).toISOString(), overdue: false, decision: null });
    expect(r.body.workingDaysLeft).toBeGreaterThanOrEqual(7);
    expect(r.body.workingDaysLeft).toBeLessThanOrEqual(8);
    // the same view, asked at the deadline and one millisecond past it
    expect(await s.ctx.decisions.view(poll.id, deadline)).toMatchObject({ overdue: false, workingDaysLeft: 0 });
    const late = await s.ctx.decisions.view(poll.id, deadline + 1);
    expect(late).toMatchObject({ overdue: true, workingDaysLeft: 0, answeredLate: false });
    // the archive shows the same flag
    const page = await s.ctx.archive.search({ q: '', page: 1, pageSize: 50 }, deadline + 1);
    expect(page.items.find((i) => i.pollId === poll.id)).toMatchObject({ overdue: true, decision: null });
    // once answered, never overdue
    await api('POST', `/polls/${poll.id}/decision`, official.headers, decision);
    expect(await s.ctx.decisions.view(poll.id, deadline + 86_400_000)).toMatchObject({ overdue: false, workingDaysLeft: null, answeredLate: false });
    // an active poll has no deadline yet
    const active = await publishedPoll(s.ctx, mod.user);
    expect((await api('GET', `/polls/${active.id}/decision`)).body).toMatchObject({ answerDeadline: null, overdue: false, workingDaysLeft: null, finalisedAt: null });
  });

  it('when a decision is published and moved, then every voter (and nobody else) gets each event once in the inbox and live on the socket', async () => {
    const voters = await Promise.all([1, 2, 3].map(() => createTestUser(s.ctx)));
    const bystander = await createTestUser(s.ctx);
    const { poll } = await finalisedPoll(s.ctx, mod.user, voters.map((v) => v.user));
    const sock = await connectSocket(s.url, { cookie: voters[0].cookie });
    const other = await connectSocket(s.url, { cookie: bystander.cookie });
    const otherFrames = record(other, 'notification');
    try {
      const pushed = nextEvent(sock, 'notification', (f) => f.pollId === poll.id, 10_000);
      expect((await api('POST', `/polls/${poll.id}/decision`, official.headers, decision)).status).toBe(201);
      const frame = await pushed;
      expect(frame).toMatchObject({ id: `d${poll.id}.1`, kind: 'decision.decided', pollId: poll.id, body: decision.summary, unread: 1 });

      for (const v of voters) {
        const inbox = await until(async () => {
          const r = await api('GET', '/me/notifications', v.headers);
          return r.body.items.length ? r.body : null;
        }, 10_000);
        expect(inbox).toMatchObject({ unread: 1, total: 1, nextOffset: null });
        expect(inbox.items[0]).toMatchObject({ id: `d${poll.id}.1`, kind: 'decision.decided', read: false, pollId: poll.id });
      }
      expect((await api('GET', '/me/notifications', bystander.headers)).body).toMatchObject({ items: [], unread: 0, total: 0 });

      // the next step: a second notification, the unread count goes to 2
      const pushed2 = nextEvent(sock, 'notification', (f) => f.id === `d${poll.id}.2`, 10_000);
      await api('POST', `/polls/${poll.id}/decision/status`, official.headers, { status: 'in_progress', note: 'Work started' });
      expect(await pushed2).toMatchObject({ kind: 'decision.in_progress', body: 'Work started', unread: 2 });
      await until(async () => (await api('GET', '/me/notifications/unread', voters[2].headers)).body.unread === 2, 10_000);

      // delivering the same event again (a re-run) writes nothing and pushes nothing
      const frames = record(sock, 'notification');
      const d = (await s.ctx.decisionStore.get(poll.id))!;
      const again = await s.ctx.notifications.deliver(voters.map((v) => v.user.id), decisionNotification(poll, d.summary, d.timeline[0]));
      expect(again).toBe(0);
      const counts = await s.ctx.notificationStore.inboxCounts(voters.map((v) => v.user.id), `d${poll.id}.1`);
      expect(counts).toEqual([1, 1, 1]);
      await api('GET', '/me/notifications', voters[0].headers); // a round trip for any stray frame to arrive
      expect(frames).toEqual([]);
      expect(otherFrames).toEqual([]);

      // mark read: one id, then all; unknown or malformed ids
      let r = await api('POST', '/me/notifications/read', voters[0].headers, { ids: [`d${poll.id}.1`] });
      expect(r.body).toEqual({ unread: 1 });
      r = await api('GET', '/me/notifications?limit=1', voters[0].headers);
      expect(r.body).toMatchObject({ total: 2, unread: 1, nextOffset: 1, items: [{ id: `d${poll.id}.2`, read: false }] });
      r = await api('GET', '/me/notifications?offset=1&limit=1', voters[0].headers);
      expect(r.body).toMatchObject({ nextOffset: null, items: [{ id: `d${poll.id}.1`, read: true }] });
      r = await api('POST', '/me/notifications/read', voters[0].headers, { ids: ['not an id'] });
      expect([r.status, r.body.error.code]).toEqual([400, 'invalid_body']);
      r = await api('POST', '/me/notifications/read', voters[0].headers, { all: false });
      expect(r.status).toBe(400);
      r = await api('GET', '/me/notifications?limit=1000', voters[0].headers);
      expect([r.status, r.body.error.code]).toEqual([400, 'invalid_query']);
      expect((await api('GET', '/me/notifications/unread', voters[0].headers)).body).toEqual({ unread: 1 });
      r = await api('POST', '/me/notifications/read', voters[0].headers, { all: true });
      expect(r.body).toEqual({ unread: 0 });
      // others' inboxes untouched; anonymous refused
      expect((await api('GET', '/me/notifications/unread', voters[1].headers)).body).toEqual({ unread: 2 });
      expect((await api('GET', '/me/notifications')).status).toBe(401);
    } finally {
      sock.close();
      other.close();
    }
  });
});
