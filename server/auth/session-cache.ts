import type { Redis } from '../redis/connection.ts';
import { closeRedis } from '../redis/connection.ts';
import type { Keys } from '../redis/keys.ts';
import type { User } from '../../shared/users.ts';

/** What changed: one session (sign-out) or everything of one user (profile, roles, sign-out everywhere). */
export type SessionChange = { sid: string } | { userId: number };

const MAX_ENTRIES = 200_000;

/**
 * A few seconds of session -> user in process, so a burst of requests from one session (a vote, then the
 * poll view and the results) resolves it once. Every change that could make an entry wrong goes through
 * `changed`: the entry is dropped here at once and, over pub/sub, in every other process. A process that
 * misses a message (its subscriber reconnecting) serves the old entry for at most `ttlMs`.
 * Invariant: an entry never outlives its session's absolute expiry.
 */
export function createSessionCache(deps: { redis: Redis; keys: Keys; ttlMs: number }) {
  const { redis, keys, ttlMs } = deps;
  /** In insertion order (a re-remembered session moves to the end), so the oldest entries are first. */
  const bySid = new Map<string, { user: User; exp: number; born: number }>();
  const byUser = new Map<number, Set<string>>();
  let sub: Redis | null = null;
  let closed = false;
  const listeners = new Set<(c: SessionChange) => void>();

  const dropSid = (sid: string) => {
    const e = bySid.get(sid);
    if (!e) return;
    bySid.delete(sid);
    const sids = byUser.get(e.user.id);
    sids?.delete(sid);
    if (sids?.size === 0) byUser.delete(e.user.id);
  };
  /**
   * Entries older than the TTL leave from the front as new ones come in: the map holds a TTL's worth of
   * sessions, not every session seen (a vote burst of distinct voters would otherwise keep up to
   * MAX_ENTRIES users alive in the heap for nothing, and every full GC would walk them).
   */
  const sweep = (now: number) => {
    for (const [sid, e] of bySid) {
      if (e.born + ttlMs > now) return;
      dropSid(sid);
    }
  };
  const drop = (c: SessionChange) => {
    if ('sid' in c) return dropSid(c.sid);
    for (const sid of byUser.get(c.userId) ?? []) bySid.delete(sid);
    byUser.delete(c.userId);
  };
  const heard = (c: SessionChange) => {
    drop(c);
    for (const l of listeners) l(c);
  };
  const subscribe = () => {
    if (sub || closed || (ttlMs === 0 && !listeners.size)) return;
    sub = redis.duplicate({ enableAutoPipelining: false, lazyConnect: false });
    sub.on('error', () => {}); // the command connection reports Redis trouble; the TTL bounds a missed message
    sub.on('message', (_ch: string, msg: string) => heard(msg.startsWith('s:') ? { sid: msg.slice(2) } : { userId: Number(msg.slice(2)) }));
    sub.subscribe(keys.sessionsChanged()).catch(() => {});
  };

  return {
    /** The cached user of a session id, or undefined (then resolve it and `remember`). */
    get(sid: string): User | undefined {
      const e = bySid.get(sid);
      if (!e) return undefined;
      if (e.exp > Date.now()) return e.user;
      drop({ sid });
      return undefined;
    },

    remember(sid: string, user: User, absoluteExpiresAt: number) {
      if (ttlMs === 0) return;
      subscribe();
      const now = Date.now();
      sweep(now);
      if (bySid.size >= MAX_ENTRIES) {
        bySid.clear();
        byUser.clear();
      }
      bySid.delete(sid);
      bySid.set(sid, { user, exp: Math.min(now + ttlMs, absoluteExpiresAt), born: now });
      let sids = byUser.get(user.id);
      if (!sids) byUser.set(user.id, (sids = new Set()));
      sids.add(sid);
    },

    /**
     * Be told of every change, from this process or any other (the open sockets re-read their user:
     * server/realtime/session-sync.ts). Returns the unsubscribe. A change published while this process's
     * subscriber is reconnecting is missed.
     */
    onChange(listener: (c: SessionChange) => void): () => void {
      listeners.add(listener);
      subscribe();
      return () => void listeners.delete(listener);
    },

    /** Entries held now (sessions, users): a TTL's worth of the sessions seen. */
    size: () => ({ sessions: bySid.size, users: byUser.size }),

    /** Drop here now, and tell the other processes (best effort: the TTL bounds a lost message). */
    async changed(c: SessionChange): Promise<void> {
      drop(c);
      await redis.publish(keys.sessionsChanged(), 'sid' in c ? `s:${c.sid}` : `u:${c.userId}`).catch(() => {});
    },

    async close(): Promise<void> {
      closed = true;
      listeners.clear();
      bySid.clear();
      byUser.clear();
      if (sub) await closeRedis(sub);
      sub = null;
    },
  };
}
export type SessionCache = ReturnType<typeof createSessionCache>;
