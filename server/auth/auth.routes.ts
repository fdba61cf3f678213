import { Router, type CookieOptions, type Request, type RequestHandler } from 'express';
import type { Config } from '../config.ts';
import type { AuthService } from './auth.service.ts';
import { AppError, parseOr } from '../errors.ts';
import { otpRequestBody, verifyBody } from '../../shared/auth.ts';
import { clientIp } from '../http/client-ip.ts';
import { isAllowedOrigin } from '../http/origin.middleware.ts';
import { SESSION_COOKIE } from './auth.middleware.ts';

/**
 * `POST /api/auth/otp {phone}` → 202 (code sent), `POST /api/auth/verify {phone, code}` → 200 {user}
 * + session cookie, `POST /api/auth/logout` → 204. All public (anyone may try to sign in).
 */
export function authRoutes(deps: { auth: AuthService; config: Pick<Config, 'ALLOWED_ORIGINS' | 'SESSION_ABSOLUTE_SECONDS'> }): Router {
  const r = Router();
  const { auth, config } = deps;

  // Sign-in requests usually carry no cookie yet, so the /api Origin check lets them through; a browser
  // always sends Origin on a cross-site POST, so refuse foreign ones here too (no login CSRF).
  const sameOrigin: RequestHandler = (req, _res, next) => {
    const origin = req.headers.origin;
    if (origin !== undefined && !isAllowedOrigin(config.ALLOWED_ORIGINS, origin)) {
      return next(new AppError('csrf_rejected', 'Cross-origin request refused', { origin }));
    }
    next();
  };

  const cookieOptions = (req: Request): CookieOptions => ({
    httpOnly: true,
    sameSite: 'lax',
    path: '/',
    secure: req.secure,
  });

  r.post('/auth/otp', sameOrigin, async (req, res) => {
    const { phone } = parseOr(otpRequestBody, req.body, 'invalid_body', 'Invalid sign-in request');
    res.status(202).json(await auth.requestCode(phone, clientIp(req)));
  });

  r.post('/auth/verify', sameOrigin, async (req, res) => {
    const { phone, code } = parseOr(verifyBody, req.body, 'invalid_body', 'Invalid sign-in request');
    const { user, session } = await auth.verify(phone, code, req.sessionId ?? null);
    res.cookie(SESSION_COOKIE, session.id, { ...cookieOptions(req), maxAge: config.SESSION_ABSOLUTE_SECONDS * 1000 });
    res.json({ user });
  });

  r.post('/auth/logout', sameOrigin, async (req, res) => {
    await auth.logout(req.sessionId);
    res.clearCookie(SESSION_COOKIE, cookieOptions(req));
    res.status(204).end();
  });

  return r;
}
