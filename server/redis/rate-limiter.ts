import type { Result } from 'ioredis';
import { createHash } from 'node:crypto';
import type { Redis } from '../redis/connection.ts';
import type { Keys } from '../redis/keys.ts';
import { AppError } from '../errors.ts';

declare module 'ioredis' {
  interface RedisCommander<Context> {
    /** scripts/rate-limit-1.lua: count one hit; returns [count, ms until the window resets]. */
    rateLimit(key: string, windowMs: number): Result<[number, number], Context>;
    /** scripts/rate-reserve-1.lua: take one unit if under the limit; returns [taken 0|1, count, ms until reset, window id]. */
    rateReserve(key: string, windowMs: number, limit: number): Result<[number, number, number, number], Context>;
    /** scripts/rate-release-1.lua: give one unit back to the window it was taken from; returns 1 | 0. */
    rateRelease(key: string, windowId: number): Result<number, Context>;
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
  /**
   * A quota rather than a throttle: `fn` counts as one of `id`'s units only if it succeeds. Over the
   * limit → AppError `rate_limited` (429) with Retry-After, `fn` not run and nothing counted; `fn` throws →
   * the unit is given back and the error rethrown.
   */
  spend<T>(id: string, fn: () => Promise<T>): Promise<T>;
};

function rateLimited(retryAfterSeconds: number): AppError {
  return new AppError('rate_limited', 'Too many requests; try again later', { retryAfterSeconds }, { 'retry-after': String(retryAfterSeconds) });
}

/** Count one hit on `limiter`; over the limit → AppError `rate_limited` (429) with Retry-After. */
export async function consume(limiter: Limiter, id: string): Promise<RateLimitResult> {
  const r = await limiter.take(id);
  if (!r.allowed) throw rateLimited(r.retryAfterSeconds);
  return r;
}

/**
 * A Redis fixed-window rate limiter (one INCR + PEXPIRE in a Lua step, so it is shared by every server
 * process), called as `take(id)` / `consume(id)` from services. Every hit counts, rejected ones too,
 * so hammering does not reopen the window early. `spend(id, fn)` is the quota form over the same kind of
 * counter: only successful calls count.
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

  /*
   * Why take first and give back on failure, rather than check first and count after success: a check
   * that does not count lets two calls at limit-1 both see room and both succeed (the count is then over
   * the limit). Taking is one atomic step on the counter, so n parallel calls at the limit get exactly the
   * remaining units; a failing call only holds its unit while it runs. The price is on the safe side: a
   * call that will fail can, while it runs, make a parallel one at the limit get 429, and a unit whose
   * give-back never happens (the process dies, Redis is unreachable) stays spent until the window ends.
   * The give-back names the window it took from, so it never lends a unit to the next window.
   */
  async function spend<T>(id: string, fn: () => Promise<T>): Promise<T> {
    const key = keys.rate(rule.name, safeId(id));
    const [taken, , ttl, windowId] = await redis.rateReserve(key, windowMs, rule.limit);
    if (!taken) throw rateLimited(Math.max(1, Math.ceil(ttl / 1000)));
    try {
      return await fn();
    } catch (err) {
      // a failed give-back leaves the unit spent (the safe side); the caller's own error is what matters
      await redis.rateRelease(key, windowId).catch(() => {});
      throw err;
    }
  }

  const limiter = { rule, take, consume: (id: string) => consume(limiter, id), spend };
  return limiter;
}

/** Ids go inside a hash tag: anything long or with braces/whitespace is hashed. */
function safeId(id: string): string {
  return /^[^{}\s]{1,100}$/.test(id) ? id : `h-${createHash('sha256').update(id).digest('base64url').slice(0, 22)}`;
}

