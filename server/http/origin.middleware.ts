import type { IncomingHttpHeaders } from 'node:http';
import type { RequestHandler } from 'express';
import { AppError } from '../errors.ts';

const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * CSRF defence for a cookie-session JSON API: every state-changing request must carry an
 * Origin (or, failing that, a Referer) from the allowlist. Requests without a cookie carry
 * no ambient authority and pass (they are anonymous anyway).
 */
export function originCheck(allowed: string[]): RequestHandler {
  const refusal = originRefusal(allowed);
  return (req, _res, next) => next(refusal(req.method ?? 'GET', req.headers) ?? undefined);
}

/** The rule itself, for Express and for the ballot route that runs without Express: an AppError or null. */
export function originRefusal(allowed: string[]) {
  const allow = new Set(allowed);
  return (method: string, headers: IncomingHttpHeaders): AppError | null => {
    if (SAFE.has(method)) return null;
    if (!headers.cookie) return null;
    let origin = headers.origin;
    if (!origin && headers.referer) {
      try {
        origin = new URL(headers.referer).origin;
      } catch {
        // an unparsable Referer carries no origin: treated like a request without one
        origin = undefined;
      }
    }
    if (!origin || !allow.has(origin)) return new AppError('csrf_rejected', 'Cross-origin request refused', { origin: origin ?? null });
    return null;
  };
}

export function isAllowedOrigin(allowed: string[], origin: string | undefined): boolean {
  return !!origin && allowed.includes(origin);
}
