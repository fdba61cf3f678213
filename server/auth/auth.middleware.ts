import type { RequestHandler } from 'express';
import type { Role, User } from '../../shared/users.ts';
import { AppError } from '../errors.ts';
import type { SessionStore } from './session.store.ts';
import { userFromRow, type UserStore } from '../users/user.store.ts';

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

/** Resolve the user of a session cookie value; the cookie is a random id, never trusted as identity itself. */
export async function resolveSession(
  deps: { sessions: SessionStore; users: UserStore },
  cookieHeader: string | undefined,
): Promise<{ user: User; sessionId: string } | null> {
  const sid = parseCookies(cookieHeader)[SESSION_COOKIE];
  if (!sid) return null;
  // the session and its user in one round trip (both live in the user's slot)
  const r = await deps.sessions.resolve(sid);
  if (!r) return null;
  const user = userFromRow(r.user);
  return user ? { user, sessionId: sid } : null;
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
