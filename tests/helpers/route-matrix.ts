import type { AppContext } from '../../server/context.ts';
import type { Role } from '../../shared/users.ts';
import { createTestUser } from './users.ts';
import { TEST_ORIGIN } from './context.ts';

/**
 * A table-driven route × role matrix. Each domain lists its routes with the status expected for each
 * kind of caller; `runRouteCase` signs in a fresh caller of that kind (so state-changing routes such as
 * logout cannot disturb the next row) and a fresh resident `target` the path/body may refer to.
 *
 *   for (const c of [...IDENTITY_ROUTES, ...MY_ROUTES]) for (const who of CALLERS)
 *     it(`${c.method} ${c.name} as ${who} → ${c.expect[who]}`, async () => {
 *       expect((await runRouteCase(s.url, s.ctx, c, who)).status).toBe(c.expect[who]);
 *     });
 */
export const CALLERS = ['anonymous', 'resident', 'moderator', 'official', 'admin'] as const;
export type Caller = (typeof CALLERS)[number];

export type RouteEnv = { self: { id: number; phone: string } | null; target: { id: number; phone: string } };

export type RouteCase = {
  /** shown in the test name, e.g. '/api/users/:id/roles' */
  name: string;
  method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
  path: (env: RouteEnv) => string;
  body?: (env: RouteEnv) => unknown;
  expect: Record<Caller, number>;
};

const all = (status: number): Record<Caller, number> => ({ anonymous: status, resident: status, moderator: status, official: status, admin: status });
const signedIn = (status: number): Record<Caller, number> => ({ ...all(status), anonymous: 401 });
const adminOnly = (status: number): Record<Caller, number> => ({ anonymous: 401, resident: 403, moderator: 403, official: 403, admin: status });

let phoneSeq = 0;
const freshPhone = () => `+7911${String(process.pid % 1000).padStart(3, '0')}${String(++phoneSeq).padStart(4, '0')}`;

/** The identity routes. Other domains: spread this and add theirs. */
export const IDENTITY_ROUTES: RouteCase[] = [
  { name: '/api/districts', method: 'GET', path: () => '/api/districts', expect: all(200) },
  { name: '/api/auth/otp', method: 'POST', path: () => '/api/auth/otp', body: () => ({ phone: freshPhone() }), expect: all(202) },
  // no code was requested for this phone: nobody, admin included, gets in
  { name: '/api/auth/verify (no code sent)', method: 'POST', path: () => '/api/auth/verify', body: (e) => ({ phone: e.target.phone, code: '000000' }), expect: all(410) },
  { name: '/api/auth/logout', method: 'POST', path: () => '/api/auth/logout', expect: all(204) },
  { name: '/api/me', method: 'GET', path: () => '/api/me', expect: signedIn(200) },
  { name: '/api/me', method: 'PATCH', path: () => '/api/me', body: () => ({ district: 'arbat' }), expect: signedIn(200) },
  { name: '/api/users?phone=', method: 'GET', path: (e) => `/api/users?phone=${encodeURIComponent(e.target.phone)}`, expect: adminOnly(200) },
  { name: '/api/users/:id', method: 'GET', path: (e) => `/api/users/${e.target.id}`, expect: adminOnly(200) },
  { name: '/api/users/:id/roles (grant moderator to another)', method: 'PUT', path: (e) => `/api/users/${e.target.id}/roles`, body: () => ({ roles: ['moderator'] }), expect: adminOnly(200) },
  // escalation: anyone but an admin making themself admin (an admin keeping admin is fine)
  { name: '/api/users/:id/roles (make myself admin)', method: 'PUT', path: (e) => `/api/users/${e.self?.id ?? e.target.id}/roles`, body: () => ({ roles: ['admin'] }), expect: adminOnly(200) },
];

const ROLE_OF: Record<Exclude<Caller, 'anonymous'>, Role[]> = { resident: [], moderator: ['moderator'], official: ['official'], admin: ['admin'] };

/** Runs one row for one caller; returns the response and the ids involved (for escalation checks). */
export async function runRouteCase(base: string, ctx: AppContext, c: RouteCase, who: Caller) {
  const target = (await createTestUser(ctx, { roles: [] })).user;
  let headers: Record<string, string> = { origin: TEST_ORIGIN, 'content-type': 'application/json' };
  let self: RouteEnv['self'] = null;
  if (who !== 'anonymous') {
    const u = await createTestUser(ctx, { roles: ROLE_OF[who] });
    headers = u.headers;
    self = { id: u.user.id, phone: u.user.phone };
  }
  const env: RouteEnv = { self, target: { id: target.id, phone: target.phone } };
  const body = c.body?.(env);
  const res = await fetch(`${base}${c.path(env)}`, { method: c.method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  return { res, env };
}
