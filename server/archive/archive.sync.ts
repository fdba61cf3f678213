import type { Logger } from '../logger.ts';
import type { Redis } from '../redis/connection.ts';
import type { Keys } from '../redis/keys.ts';
import type { ArchivePollSource } from './archive.service.ts';
import type { ArchiveStore } from './archive.store.ts';

/** Pending polls one sweep writes at most (the rest wait for the next run). */
const SWEEP_BATCH = 200;

/**
 * Copies finalised polls into the PostgreSQL archive without ever holding finalisation up. The poll id
 * goes into a Redis set first, the row is written, then the id leaves the set: with PostgreSQL down (or
 * its schema not migrated yet) the id stays and the worker's sweep writes it later. The row is insert-once,
 * so a repeated finalise job or two sweeps at once write it once.
 */
export function createArchiveSync(deps: { store: ArchiveStore | null; isReady: () => boolean; redis: Redis; keys: Keys; polls: ArchivePollSource; logger: Logger }) {
  const { store, redis, keys, polls } = deps;

  /** Writes one pending poll; true once its row exists (or it has nothing to archive). */
  async function write(pollId: number): Promise<boolean> {
    const [poll, final] = await Promise.all([polls.get(pollId), polls.getFinal(pollId)]);
    if (poll && final) await store!.put(poll, final);
    await redis.srem(keys.archivePending(), String(pollId));
    return true;
  }

  return {
    /**
     * After finalisation. Throws only if Redis fails (the finalise job is then retried, idempotently);
     * a PostgreSQL failure is logged and left to the sweep.
     */
    async record(pollId: number, log: Logger = deps.logger): Promise<void> {
      if (!store) return;
      await redis.sadd(keys.archivePending(), String(pollId));
      if (!deps.isReady()) return;
      try {
        await write(pollId);
      } catch (err) {
        log.warn({ err, pollId }, 'archive row not written (PostgreSQL unavailable?); the archive sweep writes it later');
      }
    },

    /** Ask the sweep to (re)write these polls (finalised ones the search found missing from PostgreSQL). */
    async enqueue(pollIds: number[]): Promise<void> {
      if (store && pollIds.length) await redis.sadd(keys.archivePending(), ...pollIds.map(String));
    },

    /** The worker's sweep: writes pending polls; stops at the first failure (PostgreSQL is still down). */
    async sweep(log: Logger = deps.logger): Promise<{ written: number; pending: number }> {
      if (!store || !deps.isReady()) return { written: 0, pending: store ? await redis.scard(keys.archivePending()) : 0 };
      const ids = (await redis.srandmember(keys.archivePending(), SWEEP_BATCH)).map(Number);
      let written = 0;
      try {
        for (const id of ids) if (await write(id)) written++;
      } catch (err) {
        log.warn({ err, written }, 'archive sweep stopped: PostgreSQL unavailable; the next run retries');
      }
      const pending = await redis.scard(keys.archivePending());
      if (written) log.info({ written, pending }, 'archive sweep');
      return { written, pending };
    },
  };
}
export type ArchiveSync = ReturnType<typeof createArchiveSync>;
