import type { Result } from 'ioredis';
import type { Redis } from '../redis/connection.ts';
import type { Keys } from '../redis/keys.ts';
import { notificationSchema, type Notification } from '../../shared/notifications.ts';

declare module 'ioredis' {
  interface RedisCommander<Context> {
    /** server/redis/scripts/notify-user-3.lua: {1, unread} newly delivered | {0, unread} already had it. */
    notifyUser(seenKey: string, inboxKey: string, unreadKey: string, id: string, json: string, cap: string): Result<[number, number], Context>;
  }
}

/** A notification as stored (the read flag is derived from the unread set). */
export type InboxItem = Omit<Notification, 'read'>;

/** Newest items kept per inbox. */
export const INBOX_CAP = 500;

type Pipeline = ReturnType<Redis['pipeline']>;
async function run(p: Pipeline): Promise<unknown[]> {
  const res = (await p.exec()) ?? [];
  return res.map(([err, v]) => {
    if (err) throw err;
    return v;
  });
}

/**
 * Inboxes (all keys of one user in the user's slot `{u:<id>}`) and fan-out cursors (in the poll's
 * slot `{p:<id>}`).
 */
export function createNotificationStore(redis: Redis, keys: Keys) {
  return {
    /**
     * Deliver one item to many users in ONE pipeline of single-slot Lua steps. Returns the users it
     * was newly delivered to, with their unread count (the others already had it).
     */
    async deliver(userIds: number[], item: InboxItem, cap = INBOX_CAP): Promise<{ userId: number; unread: number }[]> {
      if (!userIds.length) return [];
      const json = JSON.stringify(item);
      const p = redis.pipeline();
      for (const u of userIds) p.notifyUser(keys.inboxSeen(u), keys.inbox(u), keys.inboxUnread(u), item.id, json, String(cap));
      const res = (await run(p)) as [number, number][];
      const out: { userId: number; unread: number }[] = [];
      res.forEach(([created, unread], i) => {
        if (created === 1) out.push({ userId: userIds[i], unread: Number(unread) });
      });
      return out;
    },

    async list(userId: number, offset: number, limit: number): Promise<{ items: Notification[]; total: number; unread: number }> {
      const p = redis.pipeline();
      p.lrange(keys.inbox(userId), offset, offset + limit - 1).llen(keys.inbox(userId)).smembers(keys.inboxUnread(userId));
      const [raw, total, unreadIds] = (await run(p)) as [string[], number, string[]];
      const unread = new Set(unreadIds);
      const items: Notification[] = [];
      for (const r of raw) {
        const parsed = notificationSchema.omit({ read: true }).safeParse(JSON.parse(r));
        if (parsed.success) items.push({ ...parsed.data, read: !unread.has(parsed.data.id) });
      }
      return { items, total: Number(total), unread: unread.size };
    },

    async unread(userId: number): Promise<number> {
      return redis.scard(keys.inboxUnread(userId));
    },

    /** Mark some ids read (unknown ids are ignored) or all; returns the new unread count. */
    async markRead(userId: number, ids: string[] | 'all'): Promise<number> {
      const p = redis.multi();
      if (ids === 'all') p.del(keys.inboxUnread(userId));
      else p.srem(keys.inboxUnread(userId), ...ids);
      p.scard(keys.inboxUnread(userId));
      const res = (await p.exec()) ?? [];
      const [err, n] = res[1] ?? [];
      if (err) throw err;
      return Number(n);
    },

    /** Was this notification ever delivered to these users? (one round trip; for audits and tests) */
    async seen(userIds: number[], id: string): Promise<boolean[]> {
      if (!userIds.length) return [];
      const p = redis.pipeline();
      for (const u of userIds) p.sismember(keys.inboxSeen(u), id);
      return ((await run(p)) as number[]).map((v) => v === 1);
    },

    /** How many times each user's inbox holds this id (0/1 expected; for audits and tests). */
    async inboxCounts(userIds: number[], id: string): Promise<number[]> {
      if (!userIds.length) return [];
      const p = redis.pipeline();
      for (const u of userIds) p.lrange(keys.inbox(u), 0, -1);
      const res = (await run(p)) as string[][];
      return res.map((items) => items.filter((s) => (JSON.parse(s) as { id?: string }).id === id).length);
    },

    // ---- fan-out cursors ----
    async cursor(pollId: number, seq: number): Promise<{ chunk: number; written: number; done: boolean }> {
      const h = await redis.hgetall(keys.fanoutCursor(pollId, seq));
      return { chunk: Number(h.chunk ?? 0), written: Number(h.written ?? 0), done: h.done === '1' };
    },

    /** After a chunk: the next chunk index to do and how many inboxes that chunk newly wrote. */
    async advance(pollId: number, seq: number, nextChunk: number, written: number): Promise<void> {
      await redis.multi().hset(keys.fanoutCursor(pollId, seq), 'chunk', String(nextChunk)).hincrby(keys.fanoutCursor(pollId, seq), 'written', written).exec();
    },

    async finish(pollId: number, seq: number): Promise<void> {
      await redis.hset(keys.fanoutCursor(pollId, seq), 'done', '1', 'finishedAt', new Date().toISOString());
    },
  };
}
export type NotificationStore = ReturnType<typeof createNotificationStore>;
