import type { Result } from 'ioredis';
import { createHash } from 'node:crypto';
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

/** What a service needs of a limiter: count one hit for `id` and report (never throws for being over). */
export type Limiter = { take(id: string): Promise<RateLimitResult> };

export type RateLimiter = Limiter & {
  readonly rule: RateLimitRule;
  /** Count one hit for `id`; over the limit → throws AppError `rate_limited` (429) with Retry-After. */
  consume(id: string): Promise<RateLimitResult>;
};

/** Count one hit on `limiter`; over the limit → AppError `rate_limited` (429) with Retry-After. */
export async function consume(limiter: Limiter, id: string): Promise<RateLimitResult> {
  const r = await limiter.take(id);
  if (!r.allowed) {
    throw new AppError('rate_limited', 'Too many requests; try again later', { retryAfterSeconds: r.retryAfterSeconds }, {
      'retry-after': String(r.retryAfterSeconds),
    });
  }
  return r;
}

/**
 * A Redis fixed-window rate limiter (one INCR + PEXPIRE in a Lua step, so it is shared by every server
 * process), called as `take(id)` / `consume(id)` from services. Every hit counts, rejected ones too,
 * so hammering does not reopen the window early.
 */
export function createRateLimiter(redis: Redis, keys: Keys, rule: RateLimitRule): RateLimiter {
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

  const limiter = { rule, take, consume: (id: string) => consume(limiter, id) };
  return limiter;
}

/** Ids go inside a hash tag: anything long or with braces/whitespace is hashed. */
function safeId(id: string): string {
  return /^[^{}\s]{1,100}$/.test(id) ? id : `h-${createHash('sha256').update(id).digest('base64url').slice(0, 22)}`;
}

