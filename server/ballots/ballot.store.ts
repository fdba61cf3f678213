import type { Result } from 'ioredis';
import type { Redis } from '../redis/connection.ts';
import type { Keys } from '../redis/keys.ts';
import { unavailable } from '../errors.ts';
import { tallyField } from './tally-fields.ts';

declare module 'ioredis' {
  interface RedisCommander<Context> {
    /** server/redis/scripts/cast-ballot-8.lua */
    castBallot(
      stateKey: string,
      votersKey: string,
      receiptsKey: string,
      tallyKey: string,
      breakdownKey: string,
      ledgerKey: string,
      awardPendingKey: string,
      countsKey: string,
      bit: string,
      userId: string,
      receipt: string,
      voterHash: string,
      answersJson: string,
      districtField: string,
      ageField: string,
      award: '1' | '0',
      cell: string,
      ...tallyFields: string[]
    ): Result<[string, string, string?, string?], Context>;
  }
}

export type CastOutcome =
  /** awardBatch: 0, or the number of the shard's award batch this ballot opened (enqueue its job). */
  | { kind: 'ok'; receipt: string; at: number; shard: number; awardBatch: number }
  | { kind: 'already_voted'; receipt: string }
  | { kind: 'poll_closed'; at: number }
  | { kind: 'poll_not_open'; at: number };

/** Shard of a user in a poll of S shards, and the user's bit in that shard's bitmap. */
export const shardOf = (userId: number, shards: number) => ({ shard: userId % shards, bit: Math.floor(userId / shards) });

/**
 * The per-shard ballot data of a poll: voters bitmap, receipts, tallies, breakdown, ledger — all under
 * the tag `{p:<id>.s<k>}`. Readers add the shards up. Reads over several shards are issued together and
 * coalesced by ioredis auto-pipelining (one round trip on one Redis; per node on a Cluster, where an
 * explicit pipeline across slots would be refused).
 */
export function createBallotStore(redis: Redis, keys: Keys, durability: { REDIS_WAIT_REPLICAS: number; REDIS_WAIT_TIMEOUT_MS: number } = { REDIS_WAIT_REPLICAS: 0, REDIS_WAIT_TIMEOUT_MS: 0 }) {
  const replicas = durability.REDIS_WAIT_REPLICAS;
  /**
   * With replicas required, a ballot is acknowledged only once that many replicas hold it, so a
   * failover cannot lose it. WAIT covers this connection's writes up to now, which include the
   * cast just made (one connection per process). A timeout answers 503: the ballot may be on the
   * master, and the voter's retry gets 409 with the same receipt once it is replicated.
   */
  const replicated = async () => {
    if (replicas === 0) return;
    const acked = await redis.wait(replicas, durability.REDIS_WAIT_TIMEOUT_MS);
    if (acked < replicas) throw unavailable('Your ballot is not yet stored safely; send it again in a moment');
  };
  return {
    async cast(
      pollId: number,
      shards: number,
      userId: number,
      b: { receipt: string; voterHash: string; answersJson: string; district: string; ageBand: string; cell?: string; tallyFields: string[]; awardPoints: boolean },
    ): Promise<CastOutcome> {
      const { shard: k, bit } = shardOf(userId, shards);
      const [code, a, c, batch] = await redis.castBallot(
        keys.pollShardState(pollId, k),
        keys.pollVoters(pollId, k),
        keys.pollReceipts(pollId, k),
        keys.pollTally(pollId, k),
        keys.pollBreakdown(pollId, k),
        keys.pollLedger(pollId, k),
        keys.pollAwardPending(pollId, k),
        keys.pollCounts(pollId, k),
        String(bit),
        String(userId),
        b.receipt,
        b.voterHash,
        b.answersJson,
        tallyField.district(b.district),
        tallyField.ageBand(b.ageBand),
        b.awardPoints ? '1' : '0',
        b.cell ?? '',
        ...b.tallyFields,
      );
      switch (code) {
        case 'ok':
          await replicated();
          return { kind: 'ok', receipt: a, at: Number(c), shard: k, awardBatch: Number(batch ?? 0) };
        case 'already_voted':
          // the earlier cast may be the one a WAIT timed out on: its receipt is an acknowledgement too
          await replicated();
          return { kind: 'already_voted', receipt: a };
        case 'poll_closed':
          return { kind: 'poll_closed', at: Number(a) };
        case 'poll_not_open':
          return { kind: 'poll_not_open', at: Number(a) };
        default:
          throw new Error(`cast-ballot returned unknown code ${code}`);
      }
    },

    async hasVoted(pollId: number, shards: number, userId: number): Promise<boolean> {
      const { shard: k, bit } = shardOf(userId, shards);
      return (await redis.getbit(keys.pollVoters(pollId, k), bit)) === 1;
    },

    /** Whether one user voted in each of many polls (one round trip). */
    async votedMany(polls: { id: number; shards: number }[], userId: number): Promise<Map<number, boolean>> {
      const out = new Map<number, boolean>();
      if (!polls.length) return out;
      const res = await Promise.all(
        polls.map((poll) => {
          const { shard, bit } = shardOf(userId, poll.shards);
          return redis.getbit(keys.pollVoters(poll.id, shard), bit);
        }),
      );
      polls.forEach((poll, i) => out.set(poll.id, res[i] === 1));
      return out;
    },

    /** Tally and breakdown hashes of every shard, summed, in one round trip. */
    async sums(pollId: number, shards: number): Promise<{ tally: Record<string, number>; breakdown: Record<string, number> }> {
      const res = await Promise.all(
        Array.from({ length: shards }, (_, k) => [redis.hgetall(keys.pollTally(pollId, k)), redis.hgetall(keys.pollBreakdown(pollId, k))]).flat(),
      );
      const tally: Record<string, number> = {};
      const breakdown: Record<string, number> = {};
      res.forEach((h, i) => {
        const into = i % 2 === 0 ? tally : breakdown;
        for (const [f, v] of Object.entries(h)) into[f] = (into[f] ?? 0) + Number(v);
      });
      return { tally, breakdown };
    },

    /** Sum of shard tally versions for many polls, ONE round trip. */
    async versions(polls: { id: number; shards: number }[]): Promise<number[]> {
      if (!polls.length) return [];
      const res = await Promise.all(polls.flatMap((poll) => Array.from({ length: poll.shards }, (_, k) => redis.hget(keys.pollTally(poll.id, k), tallyField.version))));
      let i = 0;
      return polls.map((poll) => {
        let v = 0;
        for (let k = 0; k < poll.shards; k++) v += Number(res[i++] ?? 0);
        return v;
      });
    },

    /** BITCOUNT and XLEN over the shards, plus the summed tally (one round trip). */
    async counts(pollId: number, shards: number): Promise<{ votersMarked: number; ledgerLength: number; tally: Record<string, number> }> {
      const res = await Promise.all(
        Array.from({ length: shards }, (_, k) => [redis.bitcount(keys.pollVoters(pollId, k)), redis.xlen(keys.pollLedger(pollId, k)), redis.hgetall(keys.pollTally(pollId, k))]).flat(),
      );
      let votersMarked = 0;
      let ledgerLength = 0;
      const tally: Record<string, number> = {};
      for (let k = 0; k < shards; k++) {
        votersMarked += Number(res[k * 3]);
        ledgerLength += Number(res[k * 3 + 1]);
        for (const [f, v] of Object.entries(res[k * 3 + 2] as Record<string, string>)) tally[f] = (tally[f] ?? 0) + Number(v);
      }
      return { votersMarked, ledgerLength, tally };
    },

    /** Walk the voter bitmaps (GETRANGE chunks of chunkBits bits) and yield user ids. */
    async *voterIds(pollId: number, shards: number, chunkBits = 8 * 64 * 1024): AsyncGenerator<number[]> {
      const chunkBytes = Math.max(1, Math.floor(chunkBits / 8));
      for (let k = 0; k < shards; k++) {
        const key = keys.pollVoters(pollId, k);
        const len = await redis.strlen(key);
        for (let off = 0; off < len; off += chunkBytes) {
          const buf = await redis.getrangeBuffer(key, off, Math.min(len, off + chunkBytes) - 1);
          const ids: number[] = [];
          for (let i = 0; i < buf.length; i++) {
            const byte = buf[i];
            if (!byte) continue;
            for (let b = 0; b < 8; b++) {
              // Redis bit 0 is the most significant bit of byte 0
              if (byte & (0x80 >> b)) ids.push((off + i) * 8 * shards + b * shards + k);
            }
          }
          if (ids.length) yield ids;
        }
      }
    },

    /** Record that a voter's points award is made (after the award script succeeded). */
    async markAwarded(pollId: number, shards: number, userIds: number[]): Promise<void> {
      await Promise.all(
        userIds.map((userId) => {
          const { shard: k, bit } = shardOf(userId, shards);
          return redis.setbit(keys.pollAwarded(pollId, k), bit, 1);
        }),
      );
    },

    /**
     * The finalise sweep's walk: the voter bitmaps in chunks (as voterIds), each with the same range of
     * the awarded bitmap (one round trip per chunk): `voters` counts every voter of the chunk, `toAward`
     * lists those whose award is not known made.
     */
    async *sweepChunks(pollId: number, shards: number, chunkBits = 8 * 64 * 1024): AsyncGenerator<{ voters: number; toAward: number[] }> {
      const chunkBytes = Math.max(1, Math.floor(chunkBits / 8));
      for (let k = 0; k < shards; k++) {
        const key = keys.pollVoters(pollId, k);
        const len = await redis.strlen(key);
        for (let off = 0; off < len; off += chunkBytes) {
          const end = Math.min(len, off + chunkBytes) - 1;
          const [buf, done] = await Promise.all([redis.getrangeBuffer(key, off, end), redis.getrangeBuffer(keys.pollAwarded(pollId, k), off, end)]);
          let voters = 0;
          const toAward: number[] = [];
          for (let i = 0; i < buf.length; i++) {
            const byte = buf[i];
            if (!byte) continue;
            const pending = byte & ~(done[i] ?? 0);
            for (let b = 0; b < 8; b++) {
              const mask = 0x80 >> b; // Redis bit 0 is the most significant bit of byte 0
              if (byte & mask) voters++;
              if (pending & mask) toAward.push((off + i) * 8 * shards + b * shards + k);
            }
          }
          if (voters) yield { voters, toAward };
        }
      }
    },

    /** Ledger entries of one shard (for audits/tests): {id, v, a, t}. */
    /** Arrival times (ms, the ledger's stream ids) of each shard's newest ballots since `sinceMs`, at most `cap` per shard. */
    async arrivals(pollId: number, shards: number, sinceMs: number, cap: number): Promise<number[][]> {
      const reads = Array.from({ length: shards }, (_, k) => redis.xrevrange(keys.pollLedger(pollId, k), '+', String(Math.floor(sinceMs)), 'COUNT', cap));
      return (await Promise.all(reads)).map((rows) => rows.map(([id]) => Number(id.slice(0, id.indexOf('-')))));
    },

    async ledger(pollId: number, shard: number, count = 100): Promise<{ id: string; fields: Record<string, string> }[]> {
      const rows = await redis.xrange(keys.pollLedger(pollId, shard), '-', '+', 'COUNT', count);
      return rows.map(([id, f]) => {
        const fields: Record<string, string> = {};
        for (let i = 0; i < f.length; i += 2) fields[f[i]] = f[i + 1];
        return { id, fields };
      });
    },
  };
}
export type BallotStore = ReturnType<typeof createBallotStore>;
