import type { Logger } from '../logger.ts';
import type { PollRow, PollStore } from './poll.store.ts';

const CACHE_MS = 5_000;
const CACHE_MAX = 10_000;

/**
 * In-process cache of published poll definitions (drafts are always read fresh), dropped by the
 * change announcements of every process and by a CACHE_MS expiry (which covers announcements missed
 * while the subscriber was disconnected).
 */
export function createPollCache(store: Pick<PollStore, 'get' | 'getMany' | 'announceChange' | 'subscribeChanges'>, logger: Logger) {
  const cache = new Map<number, { row: PollRow; exp: number }>();
  // Bumped by every invalidation. A read that was in flight when a poll changed may carry the old row:
  // it is returned but not cached (caching it would serve a stale state, e.g. closed after finalised,
  // for CACHE_MS — seen as a missing finalisedAt right after finalisation).
  let epoch = 0;
  const invalidate = (id: number) => {
    epoch++;
    cache.delete(id);
  };
  let sub: { close(): Promise<void> } | null = null;
  let closed = false;
  const subscribe = () => {
    if (sub || closed) return;
    sub = store.subscribeChanges(invalidate, (err) => logger.warn({ err }, 'poll change subscriber error (cache entries still expire)'));
  };
  const remember = (row: PollRow | null, id: number, readAt: number) => {
    if (readAt !== epoch) return row;
    if (row && row.state !== 'draft') {
      if (cache.size >= CACHE_MAX) cache.clear();
      cache.set(id, { row, exp: Date.now() + CACHE_MS });
    } else cache.delete(id);
    return row;
  };

  return {
    /** The stored row (cached unless `fresh`); null for no such poll or an id that cannot be one. */
    async row(id: number, fresh = false): Promise<PollRow | null> {
      if (!Number.isSafeInteger(id) || id <= 0) return null;
      const c = cache.get(id);
      if (!fresh && c && c.exp > Date.now()) return c.row;
      subscribe();
      const at = epoch;
      return remember(await store.get(id), id, at);
    },

    async rows(ids: number[]): Promise<(PollRow | null)[]> {
      const now = Date.now();
      const missing = ids.filter((id) => !((cache.get(id)?.exp ?? 0) > now));
      if (missing.length) {
        subscribe();
        const at = epoch;
        const rows = await store.getMany(missing);
        const fetched = new Map(missing.map((id, i) => [id, remember(rows[i], id, at)]));
        return ids.map((id) => (fetched.has(id) ? fetched.get(id)! : cache.get(id)!.row));
      }
      return ids.map((id) => cache.get(id)!.row);
    },

    /** Drop this process's copy only (another process moved the poll; the mover announces it). */
    invalidate,

    /** This process changed the poll: drop the copy here and announce it to every other process. */
    async changed(id: number): Promise<void> {
      invalidate(id);
      // Not thrown: the change itself is stored; other processes serve the old row for at most CACHE_MS.
      await store.announceChange(id).catch((err) => logger.warn({ err, pollId: id }, 'poll change announce failed'));
    },

    /** Stop the subscriber. */
    async close(): Promise<void> {
      closed = true;
      cache.clear();
      const s = sub;
      sub = null;
      if (s) await s.close();
    },
  };
}
export type PollCache = ReturnType<typeof createPollCache>;
