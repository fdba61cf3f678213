import { randomBytes } from 'node:crypto';
import type { Redis } from '../redis/connection.ts';
import type { Keys } from '../redis/keys.ts';

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
      const row = await redis.hgetall(keys.session(id));
      if (!row.userId) return null;
      const s: Session = { id, userId: Number(row.userId), createdAt: Number(row.createdAt), absoluteExpiresAt: Number(row.absoluteExpiresAt) };
      if (s.absoluteExpiresAt <= Date.now()) {
        await redis.del(keys.session(id));
        await redis.srem(keys.userSessions(s.userId), id);
        return null;
      }
      await redis.expire(keys.session(id), ttlFor(s.absoluteExpiresAt));
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
