import type { Logger } from '../logger.ts';
import type { Redis } from '../redis/connection.ts';
import type { Keys } from '../redis/keys.ts';

/**
 * Invalid ballots are refused in Node, before the cast script runs, so the script cannot count them.
 * They are counted here, in process memory, and added to the poll's open-count hash (shard 0) every
 * `flushMs` and at close: one HINCRBY per poll with refusals per interval, however many arrive. The
 * accepted path never touches this, and a flood of invalid ballots costs Redis one write per poll per
 * interval instead of one per request. The price: a killed process loses at most one interval's count.
 */
export function createRefusalCounter(deps: { redis: Redis; keys: Keys; logger: Logger; flushMs?: number }) {
  const { redis, keys } = deps;
  const log = deps.logger.child({ component: 'refusal-counter' });
  let pending = new Map<number, number>();
  let inFlight: Promise<void> = Promise.resolve();

  async function flush(): Promise<void> {
    if (!pending.size) return inFlight;
    const batch = pending;
    pending = new Map();
    inFlight = inFlight.then(async () => {
      try {
        await Promise.all([...batch].map(([pollId, n]) => redis.hincrby(keys.pollCounts(pollId, 0), 'r:invalid', n)));
      } catch (err) {
        // put them back: the next flush retries (Redis down is the only way here)
        for (const [pollId, n] of batch) pending.set(pollId, (pending.get(pollId) ?? 0) + n);
        log.warn({ err }, 'invalid-ballot counts not flushed; retrying next interval');
      }
    });
    return inFlight;
  }
  const timer = setInterval(() => void flush(), deps.flushMs ?? 2_000);
  timer.unref();

  return {
    invalid(pollId: number): void {
      pending.set(pollId, (pending.get(pollId) ?? 0) + 1);
    },
    flush,
    async close(): Promise<void> {
      clearInterval(timer);
      await flush();
    },
  };
}
export type RefusalCounter = ReturnType<typeof createRefusalCounter>;
