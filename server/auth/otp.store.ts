import type { Result } from 'ioredis';
import { createHmac, randomInt, timingSafeEqual } from 'node:crypto';
import type { Redis } from '../redis/connection.ts';
import type { Keys } from '../redis/keys.ts';

declare module 'ioredis' {
  interface RedisCommander<Context> {
    /** scripts/otp-attempt-1.lua: spend one attempt; [-1,0] none, [-2,pttl] locked, [left,pttl,hash]. */
    otpAttempt(key: string): Result<[number, number, string?], Context>;
    /** scripts/otp-consume-1.lua: delete the code if its hash is still ARGV[1]; 1 when this call did. */
    otpConsume(key: string, hash: string): Result<number, Context>;
  }
}

export type OtpCheck =
  | { ok: true }
  | { ok: false; reason: 'expired' }
  | { ok: false; reason: 'locked'; retryAfterSeconds: number }
  | { ok: false; reason: 'invalid'; attemptsLeft: number };

/**
 * One-time sign-in codes: one live code per phone, a hash `{h: HMAC-SHA256(APP_SECRET, phone:code),
 * left: attempts}` with a TTL. The code itself is never stored. A new code replaces the previous one.
 * Attempts are spent atomically in Lua before the (constant-time) comparison, so parallel guesses
 * cannot exceed the limit; once `left` hits 0 the code is dead until it expires.
 */
export function createOtpStore(redis: Redis, keys: Keys, opts: { secret: string; ttlSeconds: number; maxAttempts: number }) {
  const mac = (phone: string, code: string) => createHmac('sha256', opts.secret).update(`otp:${phone}:${code}`).digest('base64url');

  return {
    ttlSeconds: opts.ttlSeconds,

    /** A fresh 6-digit code for the phone (uniform, from the CSPRNG); only its HMAC is written. */
    async issue(phone: string): Promise<{ code: string; expiresInSeconds: number }> {
      const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
      const key = keys.otp(phone);
      await redis
        .multi()
        .del(key)
        .hset(key, { h: mac(phone, code), left: String(opts.maxAttempts) })
        .expire(key, opts.ttlSeconds)
        .exec();
      return { code, expiresInSeconds: opts.ttlSeconds };
    },

    /** Make a code unusable (e.g. it could not be delivered) unless a newer one replaced it already. */
    async discard(phone: string, code: string): Promise<void> {
      await redis.otpConsume(keys.otp(phone), mac(phone, code));
    },

    /** Check a code, spending one attempt; a right code is consumed (single use). */
    async check(phone: string, code: string): Promise<OtpCheck> {
      const key = keys.otp(phone);
      const [left, pttl, stored] = await redis.otpAttempt(key);
      if (left === -1) return { ok: false, reason: 'expired' };
      const retryAfterSeconds = Math.max(1, Math.ceil(pttl / 1000));
      if (left === -2) return { ok: false, reason: 'locked', retryAfterSeconds };
      const given = Buffer.from(mac(phone, code));
      const want = Buffer.from(stored ?? '');
      if (given.length === want.length && timingSafeEqual(given, want)) {
        // a parallel request may have used it a moment ago: only one wins
        return (await redis.otpConsume(key, stored!)) === 1 ? { ok: true } : { ok: false, reason: 'expired' };
      }
      if (left <= 0) return { ok: false, reason: 'locked', retryAfterSeconds };
      return { ok: false, reason: 'invalid', attemptsLeft: left };
    },
  };
}
export type OtpStore = ReturnType<typeof createOtpStore>;
