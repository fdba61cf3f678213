import { randomBytes } from 'node:crypto';
import type { Redis } from '../redis/connection.ts';
import type { Keys } from '../redis/keys.ts';
import type { Result } from 'ioredis';

declare module 'ioredis' {
  interface RedisCommander<Context> {
    /** server/redis/scripts/session-touch-1.lua: [] | [userId, createdAt, absoluteExpiresAt, live 1|0]. */
    sessionTouch(sessionKey: string, nowMs: string, idleSeconds: string): Result<[] | [string, string, string, number], Context>;
  }
}

export type Session = { id: string; userId: number; createdAt: number; absoluteExpiresAt: number };

/**
 * Sessions: a random 256-bit id, a hash in Redis with an idle TTL that slides on use but never past
 * the absolute expiry. A new id at every sign-in (no fixation).
 */
export function createSessionStore(redis: Redis, keys: Keys, opts: { idleSeconds: number; absoluteSeconds: number }) {
  const ttlFor = (absoluteExpiresAt: number) =>
    Math.max(1, Math.min(opts.idleSeconds, Math.ceil((absoluteExpiresAt - Date.now()) / 1000)));

  return {
    async create(userId: number): Promise<Session> {
      const id = randomBytes(32).toString('base64url');
      const now = Date.now();
      const s: Session = { id, userId, createdAt: now, absoluteExpiresAt: now + opts.absoluteSeconds * 1000 };
      await redis
        .multi()
        .hset(keys.session(id), { userId: String(userId), createdAt: String(now), absoluteExpiresAt: String(s.absoluteExpiresAt) })
        .expire(keys.session(id), ttlFor(s.absoluteExpiresAt))
        .exec();
      // the per-user index lives as long as the newest session could (no unbounded growth)
      await redis.multi().sadd(keys.userSessions(userId), id).expire(keys.userSessions(userId), opts.absoluteSeconds).exec();
      return s;
    },

    /** The live session of an id, sliding its idle expiry; null when unknown or expired. */
    async touch(id: string): Promise<Session | null> {
      if (!/^[A-Za-z0-9_-]{43}$/.test(id)) return null;
      // one round trip: read, check the absolute expiry, slide the idle TTL (server/redis/scripts/session-touch-1.lua)
      const row = await redis.sessionTouch(keys.session(id), String(Date.now()), String(opts.idleSeconds));
      if (!row.length) return null;
      const s: Session = { id, userId: Number(row[0]), createdAt: Number(row[1]), absoluteExpiresAt: Number(row[2]) };
      if (row[3] === 0) {
        // past its absolute expiry: the script deleted the session; drop it from the user's index
        await redis.srem(keys.userSessions(s.userId), id);
        return null;
      }
      return s;
    },

    async destroy(id: string): Promise<void> {
      const userId = await redis.hget(keys.session(id), 'userId');
      await redis.del(keys.session(id));
      if (userId) await redis.srem(keys.userSessions(Number(userId)), id);
    },

    async destroyAllOf(userId: number): Promise<void> {
      const ids = await redis.smembers(keys.userSessions(userId));
      for (const id of ids) await redis.del(keys.session(id));
      await redis.del(keys.userSessions(userId));
    },
  };
}
export type SessionStore = ReturnType<typeof createSessionStore>;
