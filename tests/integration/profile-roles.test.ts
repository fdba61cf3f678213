import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { testServer, TEST_ORIGIN } from '../helpers/context.ts';
import { createTestUser } from '../helpers/users.ts';
import { connectSocket } from '../helpers/sockets.ts';
import { CALLERS, IDENTITY_ROUTES, runRouteCase } from '../helpers/route-matrix.ts';
import { pointsJobId } from '../../shared/jobs.ts';
import { DISTRICTS, OKRUGS } from '../../shared/districts.ts';
import type { RunningServer } from '../../server/main.ts';

type S = RunningServer & { url: string };
const json = async (r: Response) => (await r.json()) as any;

describe('profile, districts, roles, CSRF, route × role matrix, sockets', () => {
  let s: S;
  const call = (method: string, path: string, headers: Record<string, string>, body?: unknown) =>
    fetch(`${s.url}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const profileJob = (userId: number) => s.ctx.queues.points.getJob(pointsJobId({ userId, reason: 'profile', ref: 'profile' }));

  beforeAll(async () => {
    s = await testServer();
  });
  afterAll(async () => {
    await s.close();
  });

  it('when anyone asks for districts, then the 12 okrugs and their districts come back, each district in one okrug, arbat in ЦАО', async () => {
    const r = await fetch(`${s.url}/api/districts`);
    expect(r.status).toBe(200);
    const body = await json(r);
    expect(body.okrugs.map((o: any) => o.abbr.ru)).toEqual(['ЦАО', 'САО', 'СВАО', 'ВАО', 'ЮВАО', 'ЮАО', 'ЮЗАО', 'ЗАО', 'СЗАО', 'ЗелАО', 'НАО', 'ТАО']);
    expect(body.districts).toHaveLength(DISTRICTS.length);
    expect(body.districts.find((d: any) => d.id === 'arbat')).toEqual({ id: 'arbat', okrug: 'cao', kind: 'district', name: { ru: 'Арбат', en: 'Arbat' } });
    const ids = body.districts.map((d: any) => d.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const d of body.districts) {
      expect(d.id).toMatch(/^[a-z]+(-[a-z]+)*$/);
      expect(OKRUGS.some((o) => o.id === d.okrug)).toBe(true);
    }
    for (const o of OKRUGS) expect(body.districts.filter((d: any) => d.okrug === o.id).length).toBeGreaterThan(0);
    expect(DISTRICTS.filter((d) => d.kind === 'district')).toHaveLength(125);
  });

  it('when a resident completes their profile, then it is saved, the okrug follows from the district, and the 50-point award is queued once', async () => {
    const u = await createTestUser(s.ctx, { profile: null });
    const me0 = await json(await call('GET', '/api/me', u.headers));
    expect(me0).toMatchObject({ user: { id: u.user.id, profileComplete: false, district: null }, okrug: null });
    const r1 = await call('PATCH', '/api/me', u.headers, { name: 'Анна', district: 'khamovniki' });
    expect(r1.status).toBe(200);
    expect(await json(r1)).toMatchObject({ user: { name: 'Анна', district: 'khamovniki', profileComplete: false }, okrug: 'cao' });
    expect(await profileJob(u.user.id)).toBeUndefined();

    const r2 = await call('PATCH', '/api/me', u.headers, { birthYear: 1985, gender: 'female' });
    expect(await json(r2)).toMatchObject({ user: { birthYear: 1985, gender: 'female', profileComplete: true }, okrug: 'cao' });
    const job = await profileJob(u.user.id);
    expect(job?.name).toBe('award');
    expect(job?.data).toEqual({ userId: u.user.id, reason: 'profile', ref: 'profile', points: 50 });

    // editing a complete profile again (even after the job is gone) queues nothing new
    await job!.remove();
    const r3 = await call('PATCH', '/api/me', u.headers, { district: 'mitino' });
    expect(await json(r3)).toMatchObject({ user: { district: 'mitino', profileComplete: true }, okrug: 'szao' });
    expect(await profileJob(u.user.id)).toBeUndefined();
    // name can be cleared; required fields cannot
    expect((await json(await call('PATCH', '/api/me', u.headers, { name: null }))).user.name).toBeNull();
    expect((await call('PATCH', '/api/me', u.headers, { district: null })).status).toBe(400);
  });

  it('when the profile patch is invalid (unknown district, bad year, wrong types, extra or no fields, huge name), then 400 and nothing changes', async () => {
    const u = await createTestUser(s.ctx);
    const before = await s.ctx.redis.hgetall(s.ctx.keys.user(u.user.id));
    const bad: unknown[] = [
      { district: 'atlantis' },
      { district: 'ARBAT' },
      { birthYear: 1850 },
      { birthYear: new Date().getUTCFullYear() + 1 },
      { birthYear: '1990' },
      { birthYear: 1990.5 },
      { gender: 'robot' },
      { name: '' },
      { name: 'x'.repeat(10_000) },
      { name: 'a\u0000b' },
      { roles: ['admin'] },
      { district: 'arbat', phone: '+79990000000' },
      {},
      [],
      'arbat',
    ];
    for (const body of bad) {
      const r = await call('PATCH', '/api/me', u.headers, body);
      expect(r.status, JSON.stringify(body).slice(0, 60)).toBe(400);
      expect((await json(r)).error.code).toMatch(/^invalid_(body|json)$/);
    }
    expect(await s.ctx.redis.hgetall(s.ctx.keys.user(u.user.id))).toEqual(before);
  });

  it('when a request with a session cookie comes from a foreign origin or none, then 403 csrf_rejected and nothing changes; an allowed Referer passes', async () => {
    const u = await createTestUser(s.ctx, { profile: null });
    const admin = await createTestUser(s.ctx, { roles: ['admin'] });
    const evil = { ...u.headers, origin: 'https://evil.example' };
    const r1 = await call('PATCH', '/api/me', evil, { district: 'arbat' });
    expect(r1.status).toBe(403);
    expect((await json(r1)).error.code).toBe('csrf_rejected');
    const { origin: _o, ...noOrigin } = u.headers;
    expect((await call('PATCH', '/api/me', noOrigin, { district: 'arbat' })).status).toBe(403);
    expect((await call('PATCH', '/api/me', { ...noOrigin, referer: 'https://evil.example/page' }, { district: 'arbat' })).status).toBe(403);
    expect((await s.ctx.users.get(u.user.id))!.district).toBeNull();
    // an admin's session is no better: a forged cross-site role grant is refused
    const forged = await call('PUT', `/api/users/${u.user.id}/roles`, { ...admin.headers, origin: 'https://evil.example' }, { roles: ['admin'] });
    expect(forged.status).toBe(403);
    expect((await s.ctx.users.get(u.user.id))!.roles).toEqual(['resident']);
    // same-site form-less fallback: a Referer from the allowed origin
    expect((await call('PATCH', '/api/me', { ...noOrigin, referer: `${TEST_ORIGIN}/profile` }, { district: 'arbat' })).status).toBe(200);
  });

  it('when an admin grants and revokes a role, then it takes effect on the user\'s existing session at once', async () => {
    const admin = await createTestUser(s.ctx, { roles: ['admin'] });
    const bob = await createTestUser(s.ctx);
    const asBob = () => call('GET', `/api/users/${admin.user.id}`, bob.headers);
    expect((await asBob()).status).toBe(403);

    const g = await call('PUT', `/api/users/${bob.user.id}/roles`, admin.headers, { roles: ['moderator', 'admin'] });
    expect(g.status).toBe(200);
    expect((await json(g)).user.roles.sort()).toEqual(['admin', 'moderator', 'resident']);
    expect((await asBob()).status).toBe(200); // same cookie, no re-login

    const rv = await call('PUT', `/api/users/${bob.user.id}/roles`, admin.headers, { roles: [] });
    expect((await json(rv)).user.roles).toEqual(['resident']);
    expect((await asBob()).status).toBe(403);
    expect((await json(await call('GET', '/api/me', bob.headers))).user.roles).toEqual(['resident']);
  });

  it('when an admin tries to drop their own admin role, then 409 and they stay admin; bad role bodies and unknown users are refused', async () => {
    const admin = await createTestUser(s.ctx, { roles: ['admin'] });
    const self = await call('PUT', `/api/users/${admin.user.id}/roles`, admin.headers, { roles: ['moderator'] });
    expect(self.status).toBe(409);
    expect((await json(self)).error.code).toBe('conflict');
    expect((await s.ctx.users.get(admin.user.id))!.roles).toEqual(['resident', 'admin']);
    // keeping admin while adding another role is fine
    expect((await call('PUT', `/api/users/${admin.user.id}/roles`, admin.headers, { roles: ['admin', 'official'] })).status).toBe(200);

    const bob = await createTestUser(s.ctx);
    for (const body of [{ roles: ['superuser'] }, { roles: 'admin' }, { roles: ['admin'], extra: 1 }, {}, { roles: Array(50).fill('moderator') }]) {
      const r = await call('PUT', `/api/users/${bob.user.id}/roles`, admin.headers, body);
      expect(r.status, JSON.stringify(body)).toBe(400);
    }
    expect((await s.ctx.users.get(bob.user.id))!.roles).toEqual(['resident']);
    expect((await call('PUT', '/api/users/99999999/roles', admin.headers, { roles: ['moderator'] })).status).toBe(404);
    for (const id of ['0', '-1', 'abc', '1e3', '9'.repeat(30)]) expect((await call('PUT', `/api/users/${id}/roles`, admin.headers, { roles: [] })).status).toBe(400);
  });

  it('when an admin looks a user up by phone (typed any way) or id, then they get the user; no phone → 400, unknown → 404', async () => {
    const admin = await createTestUser(s.ctx, { roles: ['admin'] });
    const bob = await createTestUser(s.ctx, { phone: '+79035550011' });
    const byPhone = await call('GET', `/api/users?phone=${encodeURIComponent('8 (903) 555-00-11')}`, admin.headers);
    expect(byPhone.status).toBe(200);
    expect((await json(byPhone)).user.id).toBe(bob.user.id);
    expect((await call('GET', `/api/users/${bob.user.id}`, admin.headers)).status).toBe(200);
    expect((await call('GET', '/api/users', admin.headers)).status).toBe(400);
    expect((await call('GET', '/api/users?phone=garbage', admin.headers)).status).toBe(400);
    expect((await call('GET', '/api/users?phone=%2B79035550099', admin.headers)).status).toBe(404);
  });

  describe('route × role matrix (no escalation)', () => {
    for (const c of IDENTITY_ROUTES) {
      for (const who of CALLERS) {
        it(`when ${who} calls ${c.method} ${c.name}, then ${c.expect[who]}`, async () => {
          const { res, env } = await runRouteCase(s.url, s.ctx, c, who);
          expect(res.status).toBe(c.expect[who]);
          if (who !== 'admin') {
            // whatever the answer, nobody but an admin changed anyone's roles
            expect((await s.ctx.users.get(env.target.id))!.roles).toEqual(['resident']);
            if (env.self) expect((await s.ctx.users.get(env.self.id))!.roles).not.toContain('admin');
          }
        });
      }
    }
  });

  describe('sockets', () => {
    it('when a socket connects with a valid session cookie, then `session` carries its userId and roles', async () => {
      const u = await createTestUser(s.ctx, { roles: ['moderator'] });
      const sock = await connectSocket(s.url, { cookie: u.cookie });
      try {
        expect(sock.userId).toBe(u.user.id);
      } finally {
        sock.close();
      }
    });

    it('when a socket connects without a cookie, or with a dead session, then `session` says null (a watcher, never an actor)', async () => {
      const anon = await connectSocket(s.url);
      const u = await createTestUser(s.ctx);
      await s.ctx.sessions.destroy(u.cookie.split('=')[1]);
      const dead = await connectSocket(s.url, { cookie: u.cookie });
      try {
        expect(anon.userId).toBeNull();
        expect(dead.userId).toBeNull();
      } finally {
        anon.close();
        dead.close();
      }
    });

    it('when the handshake comes from a foreign Origin, then it is refused even with a valid cookie', async () => {
      const u = await createTestUser(s.ctx);
      await expect(connectSocket(s.url, { cookie: u.cookie, origin: 'https://evil.example', reconnection: false })).rejects.toThrow();
    });
  });
});
