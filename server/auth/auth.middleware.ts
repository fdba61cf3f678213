import type { RequestHandler } from 'express';
import type { Role, User } from '../../shared/users.ts';
import { AppError } from '../errors.ts';
import type { SessionStore } from './session.store.ts';
import { userFromRow, type UserStore } from '../users/user.store.ts';
import type { SessionCache } from './session-cache.ts';

export const SESSION_COOKIE = 'ac_sid';

declare module 'express-serve-static-core' {
  interface Request {
    user?: User;
    sessionId?: string;
  }
}

export function parseCookies(header: string | undefined): Record<string, string> {
  const out: Record<string, string> = Object.create(null);
  if (!header) return out;
  for (const part of header.split(';')) {
    const i = part.indexOf('=');
    if (i < 1) continue;
    const k = part.slice(0, i).trim();
    let v = part.slice(i + 1).trim();
    if (v.startsWith('"') && v.endsWith('"')) v = v.slice(1, -1);
    try {
      out[k] = decodeURIComponent(v);
    } catch {
      // not valid percent-encoding: keep the raw value (an unknown session id then simply matches nothing)
      out[k] = v;
    }
  }
  return out;
}

/**
 * Resolve the user of a session cookie value; the cookie is a random id, never trusted as identity itself.
 * With `cache` (the ballot route only), a session resolved in the last SESSION_CACHE_MS is not read
 * again: its idle expiry does not slide on that request, and an expiry that falls inside the window is
 * seen up to SESSION_CACHE_MS late (sign-out, profile and role changes drop the entry at once).
 */
export async function resolveSession(
  deps: { sessions: SessionStore; users: UserStore; sessionCache?: SessionCache },
  cookieHeader: string | undefined,
  cache = false,
): Promise<{ user: User; sessionId: string } | null> {
  const sid = parseCookies(cookieHeader)[SESSION_COOKIE];
  if (!sid) return null;
  const user = await resolveSessionId(deps, sid, cache);
  return user ? { user, sessionId: sid } : null;
}

/** The user of a session id, or null when the session is unknown, expired or its user gone (see resolveSession). */
export async function resolveSessionId(deps: { sessions: SessionStore; sessionCache?: SessionCache }, sid: string, cache = false): Promise<User | null> {
  const cached = cache ? deps.sessionCache?.get(sid) : undefined;
  if (cached) return cached;
  // the session and its user in one round trip (both live in the user's slot)
  const r = await deps.sessions.resolve(sid);
  if (!r) return null;
  const user = userFromRow(r.user);
  if (user && cache) deps.sessionCache?.remember(sid, user, r.session.absoluteExpiresAt);
  return user;
}

/** Attaches `req.user` when the request carries a live session; never rejects by itself. */
export function authenticate(deps: { sessions: SessionStore; users: UserStore }): RequestHandler {
  return async (req, _res, next) => {
    try {
      const r = await resolveSession(deps, req.headers.cookie);
      if (r) {
        req.user = r.user;
        req.sessionId = r.sessionId;
      }
      next();
    } catch (err) {
      next(err);
    }
  };
}

export const requireUser: RequestHandler = (req, _res, next) => {
  if (!req.user) return next(new AppError('unauthenticated', 'Sign in first'));
  next();
};

/** Route guard: the signed-in user must hold at least one of the roles. */
export function requireRole(...roles: Role[]): RequestHandler {
  return (req, _res, next) => {
    if (!req.user) return next(new AppError('unauthenticated', 'Sign in first'));
    if (!req.user.roles.some((r) => roles.includes(r))) {
      return next(new AppError('forbidden', `Requires role: ${roles.join(' or ')}`));
    }
    next();
  };
}
