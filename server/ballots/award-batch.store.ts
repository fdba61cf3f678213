import type { Result } from 'ioredis';
import type { Redis } from '../redis/connection.ts';
import type { Keys } from '../redis/keys.ts';

declare module 'ioredis' {
  interface RedisCommander<Context> {
    /** server/redis/scripts/award-take-2.lua: [nowMs, ...userIds]. */
    awardTake(pendingKey: string, takenKey: string, n: string, recoverUpTo: string, recoverMax: string): Result<string[], Context>;
    /** server/redis/scripts/award-done-2.lua: the number of user ids. */
    awardDone(awardedKey: string, takenKey: string, shards: string, ...userIds: string[]): Result<number, Context>;
  }
}

/**
 * The vote-award queue of each poll shard, in the shard's slot: the pending SET the cast script fills,
 * the taken ZSET of a batch under way, and the awarded bitmap the finalise sweep reads. Voters move
 * pending -> taken (award-take) -> awarded bit (award-done, after the award): a crash anywhere leaves
 * them in one of the three, and every step after the award is idempotent.
 */
export function createAwardBatchStore(redis: Redis, keys: Keys) {
  return {
    /**
     * Pop up to `n` pending voters (and, when `recoverUpTo` >= 0, up to `n` taken ones taken at or before
     * that time: a crashed batch's). `at` is Redis's clock at the take: the batch's time.
     */
    async take(pollId: number, shard: number, n: number, recoverUpTo = -1): Promise<{ at: number; userIds: number[] }> {
      const [at, ...ids] = await redis.awardTake(keys.pollAwardPending(pollId, shard), keys.pollAwardTaken(pollId, shard), String(n), String(recoverUpTo), String(n));
      return { at: Number(at), userIds: ids.map(Number) };
    },

    /** Awards made: set the voters' awarded bits and drop them from the taken set (one step). */
    async done(pollId: number, shard: number, shards: number, userIds: number[]): Promise<void> {
      if (userIds.length) await redis.awardDone(keys.pollAwarded(pollId, shard), keys.pollAwardTaken(pollId, shard), String(shards), ...userIds.map(String));
    },

    /** Per shard: voters pending, and voters taken at or before `takenBefore` (ms) — a batch that never finished. */
    async backlog(pollId: number, shards: number, takenBefore: number): Promise<{ shard: number; pending: number; stale: number }[]> {
      const res = await Promise.all(
        Array.from({ length: shards }, (_, k) => [redis.scard(keys.pollAwardPending(pollId, k)), redis.zcount(keys.pollAwardTaken(pollId, k), '-inf', takenBefore)]).flat(),
      );
      return Array.from({ length: shards }, (_, k) => ({ shard: k, pending: Number(res[2 * k]), stale: Number(res[2 * k + 1]) }));
    },

    /** After finalisation: nothing is left to award through the batches (the sweep awarded every voter). */
    async clear(pollId: number, shards: number): Promise<void> {
      await Promise.all(Array.from({ length: shards }, (_, k) => redis.del(keys.pollAwardPending(pollId, k), keys.pollAwardTaken(pollId, k))));
    },

    /** The most recent poll ids (the safety net's candidates; their definitions come from the poll cache). */
    async recentPollIds(n: number): Promise<number[]> {
      return (await redis.zrevrange(keys.pollIndex(), 0, n - 1)).map(Number);
    },
  };
}
export type AwardBatchStore = ReturnType<typeof createAwardBatchStore>;
