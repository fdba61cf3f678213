import { sessionUserId } from '../../server/auth/session-id.ts';
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { testServer, TEST_ORIGIN } from '../helpers/context.ts';
import { until } from '../helpers/processes.ts';
import { startCodeSink, jsonHeaders, post, sessionFrom, signInThroughApi, type CodeSink } from '../helpers/auth.ts';
import { createOtpSender } from '../../server/auth/otp-sender.ts';
import { normalisePhone } from '../../shared/auth.ts';
import type { RunningServer } from '../../server/main.ts';

type S = RunningServer & { url: string };
const json = async (r: Response) => (await r.json()) as any;
let phoneSeq = 0;
const phone = () => `+7920${String(process.pid % 1000).padStart(3, '0')}${String(++phoneSeq).padStart(4, '0')}`;
/** every key of this server's prefix (the whole test file shares one redis-server with others) */
const keysOf = (s: S, pattern = '*') => s.ctx.redis.keys(`${s.ctx.config.REDIS_PREFIX}${pattern}`);

describe('sign-in: phone + one-time code through the webhook sender', () => {
  let s: S;
  let sink: CodeSink;
  beforeAll(async () => {
    sink = await startCodeSink();
    s = await testServer({ OTP_SENDER: 'webhook', OTP_WEBHOOK_URL: sink.url, OTP_PER_PHONE_PER_HOUR: '50', OTP_PER_IP_PER_HOUR: '100000' });
  });
  afterAll(async () => {
    await s.close();
    await sink.close();
  });

  it('when a resident requests a code and verifies it (webhook gateway end to end), then 200 with a new user, an httpOnly SameSite=Lax cookie, and /api/me knows them', async () => {
    const p = phone();
    const r1 = await post(s.url, '/api/auth/otp', { phone: p });
    expect(r1.status).toBe(202);
    const text = await r1.text();
    expect(JSON.parse(text)).toEqual({ phone: p, expiresInSeconds: 300, codeLength: 6 });
    // the local gateway got {phone, code} as JSON; the code never appears in the API response or in Redis
    const code = sink.last(p);
    expect(code).toMatch(/^[0-9]{6}$/);
    expect(sink.received.at(-1)!.contentType).toMatch(/application\/json/);
    expect(text).not.toContain(code);
    const stored = await s.ctx.redis.hgetall(s.ctx.keys.otp(p));
    expect(Object.keys(stored).sort()).toEqual(['h', 'left']);
    expect(JSON.stringify(stored)).not.toContain(code);
    const ttl = await s.ctx.redis.ttl(s.ctx.keys.otp(p));
    expect(ttl).toBeGreaterThan(290);
    expect(ttl).toBeLessThanOrEqual(300);

    const before = await s.ctx.users.count();
    const r2 = await post(s.url, '/api/auth/verify', { phone: p, code });
    expect(r2.status).toBe(200);
    const { user } = await json(r2);
    expect(user).toMatchObject({ id: before + 1, phone: p, roles: ['resident'], profileComplete: false });
    const [cookie] = r2.headers.getSetCookie();
    expect(cookie).toMatch(/^ac_sid=[A-Za-z0-9_-]{43}; /);
    expect(cookie).toMatch(/; HttpOnly/);
    expect(cookie).toMatch(/; SameSite=Lax/);
    expect(cookie).toMatch(/; Path=\//);
    expect(cookie).toMatch(new RegExp(`; Max-Age=${s.ctx.config.SESSION_ABSOLUTE_SECONDS}`));
    expect(cookie).not.toMatch(/; Secure/); // plain http
    const me = await fetch(`${s.url}/api/me`, { headers: { cookie: `ac_sid=${sessionFrom(r2)}` } });
    expect(me.status).toBe(200);
    expect(await json(me)).toMatchObject({ user: { id: user.id, phone: p }, okrug: null });
    // the code was single use
    expect((await post(s.url, '/api/auth/verify', { phone: p, code })).status).toBe(410);
  });

  it('when the phone is typed the Russian way, then it is normalised to E.164 and the same user signs in again with a fresh session id', async () => {
    expect(normalisePhone('+7 999 123-45-67')).toBe('+79991234567');
    expect(normalisePhone('8 (999) 123-45-67')).toBe('+79991234567');
    expect(normalisePhone('79991234567')).toBe('+79991234567');
    expect(normalisePhone('+44 20 7946 0958')).toBe('+442079460958');
    for (const bad of ['', '12345', '+7 999 123', '8 999 123 45 678', 'call me', '+0123456789', '999-12', '+7999123456<']) expect(normalisePhone(bad)).toBeNull();

    const first = await signInThroughApi(s.url, sink, '+7 (921) 555-01-02');
    expect(first.user.id).toBeGreaterThan(0);
    const again = await signInThroughApi(s.url, sink, '8 921 555 01 02', { cookie: first.cookie });
    expect(again.user.id).toBe(first.user.id);
    expect(again.sid).not.toBe(first.sid);
    // sign-in with the old cookie ended that session (rotation, no fixation)
    expect((await fetch(`${s.url}/api/me`, { headers: { cookie: first.cookie } })).status).toBe(401);
    expect((await fetch(`${s.url}/api/me`, { headers: { cookie: again.cookie } })).status).toBe(200);
    // dense ids: the next new phone gets the next integer
    const n = await s.ctx.users.count();
    const next = await signInThroughApi(s.url, sink, phone());
    expect(next.user.id).toBe(n + 1);
  });

  it('when a wrong code is sent, then 401 invalid_code with the attempts left, and the right code still works', async () => {
    const p = phone();
    await post(s.url, '/api/auth/otp', { phone: p });
    const code = sink.last(p);
    const wrong = code === '000000' ? '000001' : '000000';
    const r = await post(s.url, '/api/auth/verify', { phone: p, code: wrong });
    expect(r.status).toBe(401);
    expect((await json(r)).error).toMatchObject({ code: 'invalid_code', details: { attemptsLeft: 4 } });
    expect(r.headers.getSetCookie()).toEqual([]);
    expect((await post(s.url, '/api/auth/verify', { phone: p, code })).status).toBe(200);
  });

  it('when the code has expired (its Redis TTL ran out), then 410 code_expired', async () => {
    const p = phone();
    await post(s.url, '/api/auth/otp', { phone: p });
    const code = sink.last(p);
    // fast-forward the 5-minute TTL honestly: Redis itself expires the key
    await s.ctx.redis.pexpire(s.ctx.keys.otp(p), 1);
    await until(async () => (await s.ctx.redis.exists(s.ctx.keys.otp(p))) === 0);
    const r = await post(s.url, '/api/auth/verify', { phone: p, code });
    expect(r.status).toBe(410);
    expect((await json(r)).error.code).toBe('code_expired');
    // never requested at all: the same answer
    expect((await post(s.url, '/api/auth/verify', { phone: phone(), code })).status).toBe(410);
  });

  it('when 5 wrong codes are sent, then the 5th answers 429 too_many_attempts and even the right code is refused afterwards', async () => {
    const p = phone();
    await post(s.url, '/api/auth/otp', { phone: p });
    const code = sink.last(p);
    const wrong = String((Number(code) + 1) % 1_000_000).padStart(6, '0');
    for (const left of [4, 3, 2, 1]) {
      const r = await post(s.url, '/api/auth/verify', { phone: p, code: wrong });
      expect(r.status).toBe(401);
      expect((await json(r)).error.details.attemptsLeft).toBe(left);
    }
    const fifth = await post(s.url, '/api/auth/verify', { phone: p, code: wrong });
    expect(fifth.status).toBe(429);
    expect((await json(fifth)).error.code).toBe('too_many_attempts');
    const retry = Number(fifth.headers.get('retry-after'));
    expect(retry).toBeGreaterThan(0);
    expect(retry).toBeLessThanOrEqual(300);
    const right = await post(s.url, '/api/auth/verify', { phone: p, code });
    expect(right.status).toBe(429);
    expect(right.headers.getSetCookie()).toEqual([]);
    // a new code starts over
    await post(s.url, '/api/auth/otp', { phone: p });
    expect((await post(s.url, '/api/auth/verify', { phone: p, code: sink.last(p) })).status).toBe(200);
  });

  it('when 30 wrong guesses arrive in parallel, then exactly 4 are judged (401) and the rest are locked out (the attempt counter is atomic)', async () => {
    const p = phone();
    await post(s.url, '/api/auth/otp', { phone: p });
    const code = sink.last(p);
    const guesses = Array.from({ length: 30 }, (_, i) => String((Number(code) + 1 + i) % 1_000_000).padStart(6, '0'));
    const statuses = await Promise.all(guesses.map(async (g) => (await post(s.url, '/api/auth/verify', { phone: p, code: g })).status));
    expect(statuses.filter((x) => x === 401)).toHaveLength(4);
    expect(statuses.filter((x) => x === 429)).toHaveLength(26);
    expect((await post(s.url, '/api/auth/verify', { phone: p, code })).status).toBe(429);
  });

  it('when the same right code is verified twice in parallel, then exactly one session is opened', async () => {
    const p = phone();
    await post(s.url, '/api/auth/otp', { phone: p });
    const code = sink.last(p);
    const rs = await Promise.all([0, 1, 2, 3].map(() => post(s.url, '/api/auth/verify', { phone: p, code })));
    expect(rs.map((r) => r.status).sort()).toEqual([200, 410, 410, 410]);
  });

  it('when the gateway fails, then 503 unavailable and the undelivered code is not usable', async () => {
    const p = phone();
    sink.setStatus(500);
    try {
      const r = await post(s.url, '/api/auth/otp', { phone: p });
      expect(r.status).toBe(503);
      expect((await json(r)).error.code).toBe('unavailable');
      const code = sink.last(p); // the gateway saw it, the resident did not get it
      expect(await s.ctx.redis.exists(s.ctx.keys.otp(p))).toBe(0);
      expect((await post(s.url, '/api/auth/verify', { phone: p, code })).status).toBe(410);
    } finally {
      sink.setStatus(204);
    }
  });

  it('when the request is malformed (bad phone, non-string code, extra fields, huge strings, not JSON), then 4xx and nothing is stored', async () => {
    const keysBefore = (await keysOf(s)).sort();
    const usersBefore = await s.ctx.users.count();
    const sentBefore = sink.received.length;
    const cases: [string, unknown, number, string][] = [
      ['/api/auth/otp', { phone: 'call me maybe' }, 400, 'invalid_body'],
      ['/api/auth/otp', { phone: 79991234567 }, 400, 'invalid_body'],
      ['/api/auth/otp', { phone: ['+79991234567'] }, 400, 'invalid_body'],
      ['/api/auth/otp', { phone: '+79991234567', admin: true }, 400, 'invalid_body'],
      ['/api/auth/otp', { phone: '+7'.padEnd(20_000, '9') }, 400, 'invalid_body'],
      ['/api/auth/otp', {}, 400, 'invalid_body'],
      ['/api/auth/otp', null, 400, 'invalid_json'], // strict JSON: only objects/arrays
      ['/api/auth/verify', { phone: '+79991234567', code: 123456 }, 400, 'invalid_body'],
      ['/api/auth/verify', { phone: '+79991234567', code: '12345' }, 400, 'invalid_body'],
      ['/api/auth/verify', { phone: '+79991234567', code: { $gt: '' } }, 400, 'invalid_body'],
      ['/api/auth/verify', { phone: '+79991234567', code: '123456', roles: ['admin'] }, 400, 'invalid_body'],
      ['/api/auth/verify', { phone: 'x'.repeat(60_000), code: '123456' }, 400, 'invalid_body'],
      ['/api/auth/verify', { phone: '+79991234567', code: '1'.repeat(70_000) }, 413, 'payload_too_large'],
    ];
    for (const [path, body, status, code] of cases) {
      const r = await post(s.url, path, body);
      expect(r.status, `${path} ${JSON.stringify(body).slice(0, 60)}`).toBe(status);
      const b = await json(r);
      expect(b.error.code).toBe(code);
      expect(JSON.stringify(b)).not.toMatch(/at .*\.ts|stack/i);
    }
    const notJson = await fetch(`${s.url}/api/auth/otp`, { method: 'POST', headers: { 'content-type': 'text/plain', origin: TEST_ORIGIN }, body: 'phone=+79991234567' });
    expect(notJson.status).toBe(415);
    const broken = await fetch(`${s.url}/api/auth/otp`, { method: 'POST', headers: jsonHeaders(), body: '{"phone":' });
    expect(broken.status).toBe(400);
    expect((await keysOf(s)).sort()).toEqual(keysBefore);
    expect(await s.ctx.users.count()).toBe(usersBefore);
    expect(sink.received.length).toBe(sentBefore);
  });

  it('when a sign-in request comes from a foreign Origin, then 403 csrf_rejected and no code is sent (no login CSRF)', async () => {
    const p = phone();
    const sent = sink.received.length;
    const r = await post(s.url, '/api/auth/otp', { phone: p }, { 'content-type': 'application/json', origin: 'https://evil.example' });
    expect(r.status).toBe(403);
    expect((await json(r)).error.code).toBe('csrf_rejected');
    expect(sink.received.length).toBe(sent);
    await post(s.url, '/api/auth/otp', { phone: p });
    const v = await post(s.url, '/api/auth/verify', { phone: p, code: sink.last(p) }, { 'content-type': 'application/json', origin: 'https://evil.example' });
    expect(v.status).toBe(403);
    expect(v.headers.getSetCookie()).toEqual([]);
  });

  it('when the resident logs out, then the session is destroyed, the cookie cleared, and the old cookie no longer works', async () => {
    const u = await signInThroughApi(s.url, sink, phone());
    expect(await s.ctx.redis.exists(s.ctx.keys.session(sessionUserId(u.sid), u.sid))).toBe(1);
    // CSRF: logout is state-changing; with the cookie and no Origin/Referer it is refused
    const noOrigin = await fetch(`${s.url}/api/auth/logout`, { method: 'POST', headers: { cookie: u.cookie } });
    expect(noOrigin.status).toBe(403);
    expect(await s.ctx.redis.exists(s.ctx.keys.session(sessionUserId(u.sid), u.sid))).toBe(1);
    const r = await post(s.url, '/api/auth/logout', undefined, u.headers);
    expect(r.status).toBe(204);
    const [cleared] = r.headers.getSetCookie();
    expect(cleared).toMatch(/^ac_sid=;/);
    expect(cleared).toMatch(/Expires=Thu, 01 Jan 1970/);
    expect(await s.ctx.redis.exists(s.ctx.keys.session(sessionUserId(u.sid), u.sid))).toBe(0);
    expect(await s.ctx.redis.sismember(s.ctx.keys.userSessions(u.user.id), u.sid)).toBe(0);
    expect((await fetch(`${s.url}/api/me`, { headers: { cookie: u.cookie } })).status).toBe(401);
  });
});

describe('sessions: idle and absolute expiry (time moved honestly in Redis)', () => {
  let s: S;
  let sink: CodeSink;
  beforeAll(async () => {
    sink = await startCodeSink();
    s = await testServer({ OTP_SENDER: 'webhook', OTP_WEBHOOK_URL: sink.url, SESSION_IDLE_SECONDS: '60', SESSION_ABSOLUTE_SECONDS: '120' });
  });
  afterAll(async () => {
    await s.close();
    await sink.close();
  });
  const me = (cookie: string) => fetch(`${s.url}/api/me`, { headers: { cookie } });

  it('when the session is used, then its idle TTL slides back to SESSION_IDLE_SECONDS (proves activity keeps it alive)', async () => {
    const u = await signInThroughApi(s.url, sink, phone());
    const key = s.ctx.keys.session(sessionUserId(u.sid), u.sid);
    expect(await s.ctx.redis.ttl(key)).toBeGreaterThan(55);
    await s.ctx.redis.pexpire(key, 5_000); // as if 55 s passed idle
    expect((await me(u.cookie)).status).toBe(200);
    expect(await s.ctx.redis.pttl(key)).toBeGreaterThan(55_000);
  });

  it('when the idle TTL runs out, then the session is refused (proves the idle expiry is enforced by Redis)', async () => {
    const u = await signInThroughApi(s.url, sink, phone());
    await s.ctx.redis.pexpire(s.ctx.keys.session(sessionUserId(u.sid), u.sid), 1);
    await until(async () => (await s.ctx.redis.exists(s.ctx.keys.session(sessionUserId(u.sid), u.sid))) === 0);
    const r = await me(u.cookie);
    expect(r.status).toBe(401);
    expect((await json(r)).error.code).toBe('unauthenticated');
  });

  it('when the absolute expiry has passed, then the session is refused and deleted even though its idle TTL had time left', async () => {
    const u = await signInThroughApi(s.url, sink, phone());
    const key = s.ctx.keys.session(sessionUserId(u.sid), u.sid);
    const created = Number(await s.ctx.redis.hget(key, 'createdAt'));
    expect(Number(await s.ctx.redis.hget(key, 'absoluteExpiresAt'))).toBe(created + 120_000);
    await s.ctx.redis.hset(key, 'absoluteExpiresAt', String(Date.now() - 1)); // as if 120 s passed with activity
    expect(await s.ctx.redis.ttl(key)).toBeGreaterThan(50);
    expect((await me(u.cookie)).status).toBe(401);
    expect(await s.ctx.redis.exists(key)).toBe(0);
  });

  it('when the absolute expiry is near, then sliding never extends the session past it', async () => {
    const u = await signInThroughApi(s.url, sink, phone());
    const key = s.ctx.keys.session(sessionUserId(u.sid), u.sid);
    await s.ctx.redis.hset(key, 'absoluteExpiresAt', String(Date.now() + 3_000));
    expect((await me(u.cookie)).status).toBe(200);
    expect(await s.ctx.redis.pttl(key)).toBeLessThanOrEqual(3_000);
  });

  it('when a cookie carries an unknown or malformed session id, then the request is anonymous', async () => {
    for (const c of ['ac_sid=' + 'A'.repeat(43), 'ac_sid=%7Bx%7D', 'ac_sid=' + 'x'.repeat(5000)]) expect((await me(c)).status).toBe(401);
  });
});

describe('rate limits and senders', () => {
  let s: S;
  let sink: CodeSink;
  beforeAll(async () => {
    sink = await startCodeSink();
    s = await testServer({ OTP_SENDER: 'webhook', OTP_WEBHOOK_URL: sink.url, OTP_PER_PHONE_PER_HOUR: '3', OTP_PER_IP_PER_HOUR: '6', ADMIN_PHONES: '8 (999) 000-00-01, not-a-phone' });
  });
  afterAll(async () => {
    await s.close();
    await sink.close();
  });

  it('when one phone asks for more codes than OTP_PER_PHONE_PER_HOUR, then 429 rate_limited with Retry-After and no code is sent', async () => {
    const p = phone();
    const xff = { 'x-forwarded-for': '203.0.113.10' }; // its own IP bucket (loopback peer: forwarded address honoured)
    for (let i = 0; i < 3; i++) expect((await post(s.url, '/api/auth/otp', { phone: p }, jsonHeaders(xff))).status).toBe(202);
    const sent = sink.received.length;
    const r = await post(s.url, '/api/auth/otp', { phone: p }, jsonHeaders(xff));
    expect(r.status).toBe(429);
    expect((await json(r)).error.code).toBe('rate_limited');
    const retry = Number(r.headers.get('retry-after'));
    expect(retry).toBeGreaterThan(3500);
    expect(retry).toBeLessThanOrEqual(3600);
    expect(sink.received.length).toBe(sent);
    // another phone from the same address is still fine
    expect((await post(s.url, '/api/auth/otp', { phone: phone() }, jsonHeaders(xff))).status).toBe(202);
  });

  it('when one address asks for codes for many phones, then the per-IP limit answers 429 and other addresses are unaffected', async () => {
    const xff = { 'x-forwarded-for': '198.51.100.7' };
    for (let i = 0; i < 6; i++) expect((await post(s.url, '/api/auth/otp', { phone: phone() }, jsonHeaders(xff))).status).toBe(202);
    const r = await post(s.url, '/api/auth/otp', { phone: phone() }, jsonHeaders(xff));
    expect(r.status).toBe(429);
    expect(r.headers.get('retry-after')).toMatch(/^[0-9]+$/);
    expect((await post(s.url, '/api/auth/otp', { phone: phone() }, jsonHeaders({ 'x-forwarded-for': '198.51.100.8' }))).status).toBe(202);
  });

  it('when the limiter is used as a plain call, then the window counts every hit and resets with the key TTL', async () => {
    const { createRateLimiter } = await import('../../server/redis/rate-limiter.ts');
    const lim = createRateLimiter(s.ctx.redis, s.ctx.keys, { name: 'test-plain', limit: 2, windowSeconds: 60 });
    expect((await lim.take('k')).allowed).toBe(true);
    expect(await lim.take('k')).toMatchObject({ allowed: true, remaining: 0 });
    const over = await lim.take('k');
    expect(over).toMatchObject({ allowed: false, count: 3 });
    expect(over.retryAfterSeconds).toBeGreaterThan(55);
    await expect(lim.consume('k')).rejects.toMatchObject({ code: 'rate_limited', status: 429, headers: { 'retry-after': expect.any(String) } });
    await s.ctx.redis.pexpire(s.ctx.keys.rate('test-plain', 'k'), 1); // the window ends
    await until(async () => (await s.ctx.redis.exists(s.ctx.keys.rate('test-plain', 'k'))) === 0);
    expect((await lim.take('k')).allowed).toBe(true);
    // ids with braces or whitespace cannot break out of the hash tag
    expect((await lim.take('a}{b c')).allowed).toBe(true);
  });


  it('when the limiter is used as a quota (spend), then only calls that succeed count, and a unit is never given back to a later window', async () => {
    const { createRateLimiter } = await import('../../server/redis/rate-limiter.ts');
    const lim = createRateLimiter(s.ctx.redis, s.ctx.keys, { name: 'test-quota', limit: 2, windowSeconds: 60 });
    const key = s.ctx.keys.rate('test-quota', 'q');
    const count = async () => Number((await s.ctx.redis.get(key)) ?? 0);
    const boom = () => Promise.reject(new Error('refused'));
    await expect(lim.spend('q', boom)).rejects.toThrow('refused');
    expect(await s.ctx.redis.exists(key)).toBe(0); // a refused call leaves no window behind
    expect(await lim.spend('q', async () => 'filed')).toBe('filed');
    await expect(lim.spend('q', boom)).rejects.toThrow('refused');
    expect(await count()).toBe(1);
    await lim.spend('q', async () => 'filed');
    let ran = false;
    await expect(lim.spend('q', async () => (ran = true))).rejects.toMatchObject({ code: 'rate_limited', status: 429, headers: { 'retry-after': expect.any(String) } });
    expect([ran, await count()]).toEqual([false, 2]);
    // the window ends while a call runs and a new one begins: its failure gives nothing to the new window
    await s.ctx.redis.del(key);
    await expect(
      lim.spend('q', async () => {
        await s.ctx.redis.set(key, '1', 'PX', 30_000); // the next window, one unit spent in it
        throw new Error('refused');
      }),
    ).rejects.toThrow('refused');
    expect(await count()).toBe(1);
  });
  it('when a phone listed in ADMIN_PHONES signs in, then it is an admin (and a garbage entry is ignored)', async () => {
    const xff = { 'x-forwarded-for': '192.0.2.50' };
    const admin = await signInThroughApi(s.url, sink, '+79990000001', xff);
    expect(admin.user.roles).toEqual(['resident', 'admin']);
    const other = await signInThroughApi(s.url, sink, phone(), xff);
    expect(other.user.roles).toEqual(['resident']);
  });

  it('when OTP_SENDER=log, then the code is written to the server log (how to get one in development)', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, new Writable({ write: (c, _e, cb) => (lines.push(String(c)), cb()) }));
    const sender = createOtpSender({ OTP_SENDER: 'log', NODE_ENV: 'development' }, logger);
    await sender.send('+79991112233', '424242');
    expect(sender.kind).toBe('log');
    const entry = JSON.parse(lines.at(-1)!);
    expect(entry).toMatchObject({ phone: '+79991112233', code: '424242', sender: 'log' });
    expect(entry.msg).toContain('424242');
  });

  it('when the webhook gateway hangs, then the sender gives up at its timeout', async () => {
    const hang = createServer(() => {});
    await new Promise<void>((r) => hang.listen(0, '127.0.0.1', () => r()));
    try {
      const url = `http://127.0.0.1:${(hang.address() as AddressInfo).port}/`;
      const sender = createOtpSender({ OTP_SENDER: 'webhook', OTP_WEBHOOK_URL: url, NODE_ENV: 'test' }, pino({ level: 'silent' }), { timeoutMs: 200 });
      const t0 = performance.now();
      await expect(sender.send('+79991112233', '111111')).rejects.toThrow();
      expect(performance.now() - t0).toBeLessThan(2_000);
    } finally {
      hang.closeAllConnections();
      await new Promise<void>((r) => hang.close(() => r()));
    }
  });
});

describe('cookie over https', () => {
  it('when served over https behind a trusted proxy, then the session cookie is Secure', async () => {
    const sink = await startCodeSink();
    const s = await testServer({ OTP_SENDER: 'webhook', OTP_WEBHOOK_URL: sink.url, TRUST_PROXY: '1' });
    try {
      const p = phone();
      await post(s.url, '/api/auth/otp', { phone: p }, jsonHeaders({ 'x-forwarded-proto': 'https' }));
      const r = await post(s.url, '/api/auth/verify', { phone: p, code: sink.last(p) }, jsonHeaders({ 'x-forwarded-proto': 'https' }));
      expect(r.status).toBe(200);
      expect(r.headers.getSetCookie()[0]).toMatch(/; Secure/);
    } finally {
      await s.close();
      await sink.close();
    }
  });
});
