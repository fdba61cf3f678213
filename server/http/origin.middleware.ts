import type { RequestHandler } from 'express';
import { AppError } from '../errors.ts';

const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * CSRF defence for a cookie-session JSON API: every state-changing request must carry an
 * Origin (or, failing that, a Referer) from the allowlist. Requests without a cookie carry
 * no ambient authority and pass (they are anonymous anyway).
 */
export function originCheck(allowed: string[]): RequestHandler {
  const allow = new Set(allowed);
  return (req, _res, next) => {
    if (SAFE.has(req.method)) return next();
    if (!req.headers.cookie) return next();
    let origin = req.headers.origin;
    if (!origin && req.headers.referer) {
      try {
        origin = new URL(req.headers.referer).origin;
      } catch {
        // an unparsable Referer carries no origin: treated like a request without one
        origin = undefined;
      }
    }
    if (!origin || !allow.has(origin)) {
      return next(new AppError('csrf_rejected', 'Cross-origin request refused', { origin: origin ?? null }));
    }
    next();
  };
}

export function isAllowedOrigin(allowed: string[], origin: string | undefined): boolean {
  return !!origin && allowed.includes(origin);
}
