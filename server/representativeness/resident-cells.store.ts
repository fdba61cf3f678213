import type { Result } from 'ioredis';
import type { Logger } from '../logger.ts';
import type { Redis } from '../redis/connection.ts';
import type { Keys } from '../redis/keys.ts';

declare module 'ioredis' {
  interface RedisCommander<Context> {
    /** server/redis/scripts/resident-cell-1.lua */
    residentCell(userKey: string): Result<[string, string], Context>;
  }
}

const REBUILD_BATCH = 1_000;

/**
 * The eligible base: registered residents with a complete profile, counted per `<district>|<birthYear>|<gender>`
 * (birth year, not age band, so the counts stay right when a year turns and a poll's age limits apply
 * exactly). Kept current by `track` after every profile change; `rebuild` recounts from every user.
 */
export function createResidentCellsStore(redis: Redis, keys: Keys, logger: Logger) {
  const log = logger.child({ component: 'resident-cells' });
  const store = {
    /** Move the user's count to the cell of their profile as it is now (no-op when unchanged). */
    async track(userId: number): Promise<void> {
      const [old, now] = await redis.residentCell(keys.user(userId));
      if (old === now) return;
      const tx = redis.multi();
      if (old) tx.hincrby(keys.residentCells(), old, -1);
      if (now) tx.hincrby(keys.residentCells(), now, 1);
      await tx.exec();
    },

    async all(): Promise<Record<string, number>> {
      const h = await redis.hgetall(keys.residentCells());
      const out: Record<string, number> = {};
      for (const [cell, n] of Object.entries(h)) if (Number(n) > 0) out[cell] = Number(n);
      return out;
    },

    /**
     * Recount every user (ids 1..user:seq) into a fresh hash and swap it in. Run once by the worker when
     * the counts were never built (users that predate them); a profile saved during the rebuild may be
     * counted in its previous cell until its next change.
     */
    async rebuild(): Promise<number> {
      const last = Number((await redis.get(keys.userSeq())) ?? 0);
      const cells = new Map<string, number>();
      let counted = 0;
      for (let from = 1; from <= last; from += REBUILD_BATCH) {
        const ids = Array.from({ length: Math.min(REBUILD_BATCH, last - from + 1) }, (_, i) => from + i);
        const outs = await Promise.all(ids.map((id) => redis.residentCell(keys.user(id))));
        for (const [, cell] of outs) if (cell) {
          cells.set(cell, (cells.get(cell) ?? 0) + 1);
          counted++;
        }
        if (Math.floor((from + ids.length - 1) / 100_000) > Math.floor((from - 1) / 100_000)) log.info({ users: from + ids.length - 1, of: last }, 'resident cells: rebuilding');
      }
      const tx = redis.multi().del(keys.residentCells());
      if (cells.size) tx.hset(keys.residentCells(), Object.fromEntries(cells));
      await tx.exec();
      log.info({ users: last, counted, cells: cells.size }, 'resident cells rebuilt');
      return counted;
    },

    /** Rebuild once per deployment (a marker, SET NX): true when this call did it. */
    async buildOnce(): Promise<boolean> {
      if ((await redis.set(keys.residentCellsBuilt(), new Date().toISOString(), 'NX')) !== 'OK') return false;
      try {
        await store.rebuild();
      } catch (err) {
        await redis.del(keys.residentCellsBuilt()).catch(() => {}); // the next worker start tries again
        throw err;
      }
      return true;
    },
  };
  return store;
}
export type ResidentCellsStore = ReturnType<typeof createResidentCellsStore>;
