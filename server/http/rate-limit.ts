import type { Result } from 'ioredis';
import { createHash } from 'node:crypto';
import type { Request, RequestHandler } from 'express';
import type { Redis } from '../redis/connection.ts';
import type { Keys } from '../redis/keys.ts';
import { AppError } from '../errors.ts';

declare module 'ioredis' {
  interface RedisCommander<Context> {
    /** scripts/rate-limit-1.lua: count one hit; returns [count, ms until the window resets]. */
    rateLimit(key: string, windowMs: number): Result<[number, number], Context>;
  }
}

export type RateLimitRule = {
  /** Bucket name, part of the key: `otp-phone`, `otp-ip`, … (letters, digits, dashes). */
  name: string;
  /** Hits allowed per window. */
  limit: number;
  windowSeconds: number;
};

export type RateLimitResult = { allowed: boolean; count: number; limit: number; remaining: number; retryAfterSeconds: number };

export type RateLimiter = RequestHandler & {
  readonly rule: RateLimitRule;
  /** Count one hit for `id` and report; never throws for being over the limit. */
  take(id: string): Promise<RateLimitResult>;
  /** Count one hit for `id`; over the limit → throws AppError `rate_limited` (429) with Retry-After. */
  consume(id: string): Promise<RateLimitResult>;
};

/**
 * A Redis fixed-window rate limiter (one INCR + PEXPIRE in a Lua step, so it is shared by every server
 * process). Usable as Express middleware (`keyOf(req)` picks the id; default: the client IP; null skips)
 * and as a plain `take(id)` / `consume(id)` call from services. Every hit counts, rejected ones too,
 * so hammering does not reopen the window early.
 *
 *   const perIp = createRateLimiter(ctx.redis, ctx.keys, { name: 'otp-ip', limit: 30, windowSeconds: 3600 });
 *   router.post('/x', perIp, handler);                 // middleware
 *   await perIp.consume(phone);                        // inside a service
 */
export function createRateLimiter(
  redis: Redis,
  keys: Keys,
  rule: RateLimitRule,
  keyOf: (req: Request) => string | null = (req) => clientIp(req),
): RateLimiter {
  if (!/^[a-z0-9-]{1,40}$/.test(rule.name)) throw new Error(`rate limiter name "${rule.name}": letters, digits, dashes`);
  if (!(rule.limit >= 1) || !(rule.windowSeconds >= 1)) throw new Error(`rate limiter ${rule.name}: limit and window must be >= 1`);
  const windowMs = Math.round(rule.windowSeconds * 1000);

  async function take(id: string): Promise<RateLimitResult> {
    const [count, ttl] = await redis.rateLimit(keys.rate(rule.name, safeId(id)), windowMs);
    const allowed = count <= rule.limit;
    return {
      allowed,
      count,
      limit: rule.limit,
      remaining: Math.max(0, rule.limit - count),
      retryAfterSeconds: allowed ? 0 : Math.max(1, Math.ceil(ttl / 1000)),
    };
  }

  async function consume(id: string): Promise<RateLimitResult> {
    const r = await take(id);
    if (!r.allowed) {
      throw new AppError('rate_limited', 'Too many requests; try again later', { retryAfterSeconds: r.retryAfterSeconds }, {
        'retry-after': String(r.retryAfterSeconds),
      });
    }
    return r;
  }

  const middleware: RequestHandler = async (req, _res, next) => {
    try {
      const id = keyOf(req);
      if (id !== null) await consume(id);
      next();
    } catch (err) {
      next(err);
    }
  };
  return Object.assign(middleware, { rule, take, consume });
}

/** Ids go inside a hash tag: anything long or with braces/whitespace is hashed. */
function safeId(id: string): string {
  return /^[^{}\s]{1,100}$/.test(id) ? id : `h-${createHash('sha256').update(id).digest('base64url').slice(0, 22)}`;
}

const LOOPBACK = /^(127\.|::1$|::ffff:127\.)/;

/**
 * The client's IP for rate limiting. With TRUST_PROXY, Express's `req.ip` (X-Forwarded-For as the proxy
 * set it). Without it, X-Forwarded-For is honoured only from a loopback peer — the SvelteKit handler in
 * this same process calls the API over loopback and forwards the browser's address that way; a remote
 * client cannot spoof it.
 */
export function clientIp(req: Request): string {
  const peer = req.socket.remoteAddress ?? 'unknown';
  if (req.ip && req.ip !== peer) return req.ip; // Express resolved a trusted proxy chain (TRUST_PROXY)
  const xff = req.headers['x-forwarded-for'];
  if (LOOPBACK.test(peer) && typeof xff === 'string' && xff.trim()) {
    const last = xff.split(',').pop()!.trim();
    if (/^[0-9a-fA-F.:]{2,45}$/.test(last)) return last;
  }
  return peer;
}
