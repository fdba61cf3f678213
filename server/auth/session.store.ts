import type { Redis } from '../redis/connection.ts';
import type { Keys } from '../redis/keys.ts';
import type { Result } from 'ioredis';
import { mintSessionId, sessionUserId } from './session-id.ts';

declare module 'ioredis' {
  interface RedisCommander<Context> {
    /** server/redis/scripts/session-resolve-3.lua: [0] unknown | [1] expired (deleted) | [2, createdAt, absoluteExpiresAt, ...user hash]. */
    sessionResolve(sessionKey: string, userKey: string, userSessionsKey: string, nowMs: string, idleSeconds: string, sid: string, userId: string): Result<(number | string)[], Context>;
  }
}

export type Session = { id: string; userId: number; createdAt: number; absoluteExpiresAt: number };

/**
 * Sessions: a 256-bit id (the user id and 208 random bits: server/auth/session-id.ts), a hash in the
 * user's Redis slot with an idle TTL that slides on use but never past
 * the absolute expiry. A new id at every sign-in (no fixation).
 */
export function createSessionStore(redis: Redis, keys: Keys, opts: { idleSeconds: number; absoluteSeconds: number }) {
  const ttlFor = (absoluteExpiresAt: number) =>
    Math.max(1, Math.min(opts.idleSeconds, Math.ceil((absoluteExpiresAt - Date.now()) / 1000)));

  return {
    async create(userId: number): Promise<Session> {
      const id = mintSessionId(userId);
      const now = Date.now();
      const s: Session = { id, userId, createdAt: now, absoluteExpiresAt: now + opts.absoluteSeconds * 1000 };
      await redis
        .multi()
        .hset(keys.session(userId, id), { userId: String(userId), createdAt: String(now), absoluteExpiresAt: String(s.absoluteExpiresAt) })
        .expire(keys.session(userId, id), ttlFor(s.absoluteExpiresAt))
        .exec();
      // the per-user index lives as long as the newest session could (no unbounded growth)
      await redis.multi().sadd(keys.userSessions(userId), id).expire(keys.userSessions(userId), opts.absoluteSeconds).exec();
      return s;
    },

    /**
     * The live session of an id and its user's hash, sliding the idle expiry, in ONE round trip
     * (server/redis/scripts/session-resolve-3.lua); null when unknown or expired (an expired session is
     * deleted). `user` is the raw user hash (empty when the user is gone).
     */
    async resolve(id: string): Promise<{ session: Session; user: Record<string, string> } | null> {
      const userId = sessionUserId(id);
      if (userId <= 0) return null;
      const out = await redis.sessionResolve(keys.session(userId, id), keys.user(userId), keys.userSessions(userId), String(Date.now()), String(opts.idleSeconds), id, String(userId));
      if (out[0] !== 2) return null;
      const user: Record<string, string> = {};
      for (let i = 3; i < out.length; i += 2) user[String(out[i])] = String(out[i + 1]);
      return { session: { id, userId, createdAt: Number(out[1]), absoluteExpiresAt: Number(out[2]) }, user };
    },

    /** The live session of an id, sliding its idle expiry; null when unknown or expired. */
    async touch(id: string): Promise<Session | null> {
      return (await this.resolve(id))?.session ?? null;
    },

    async destroy(id: string): Promise<void> {
      const key = keys.session(sessionUserId(id), id);
      const userId = await redis.hget(key, 'userId');
      await redis.del(key);
      if (userId) await redis.srem(keys.userSessions(Number(userId)), id);
    },

    async destroyAllOf(userId: number): Promise<void> {
      const ids = await redis.smembers(keys.userSessions(userId));
      for (const id of ids) await redis.del(keys.session(userId, id));
      await redis.del(keys.userSessions(userId));
    },
  };
}
export type SessionStore = ReturnType<typeof createSessionStore>;
