import type { Result } from 'ioredis';
import type { Redis } from '../redis/connection.ts';
import type { Keys } from '../redis/keys.ts';
import { LEDGER_CAP, pointsLedgerEntrySchema, type PointsLedgerEntry } from '../../shared/points.ts';

declare module 'ioredis' {
  interface RedisCommander<Context> {
    /** server/redis/scripts/award-points-3.lua: {1|0, balance, earned}. */
    awardPoints(
      accountKey: string,
      awardsKey: string,
      ledgerKey: string,
      marker: string,
      points: string,
      reason: string,
      ref: string,
      cap: string,
    ): Result<[number, number, number], Context>;
  }
}

export type AwardReason = 'vote' | 'profile' | 'report';
export type AwardOutcome = { created: boolean; balance: number; earned: number };

/** A ledger entry as stored by the Lua scripts: `at` in ms. */
export function parseLedgerEntry(raw: string): PointsLedgerEntry | null {
  try {
    const o = JSON.parse(raw) as { at: number } & Record<string, unknown>;
    const r = pointsLedgerEntrySchema.safeParse({ ...o, at: new Date(Number(o.at)).toISOString(), ref: String(o.ref) });
    return r.success ? r.data : null;
  } catch {
    // a corrupt ledger entry reads as absent (the list skips it); the balance is kept elsewhere
    return null;
  }
}

/**
 * Points of one user, all in the user's slot `{u:<id>}`: the account (balance, lifetime earned), the
 * award markers (one field per award ever made: the idempotency key) and the capped ledger.
 */
export function createPointsStore(redis: Redis, keys: Keys) {
  return {
    /** Award once per (user, reason, ref): a retried, duplicated or re-run award is a no-op. */
    async award(userId: number, reason: AwardReason, ref: string, points: number): Promise<AwardOutcome> {
      const [created, balance, earned] = await redis.awardPoints(
        keys.pointsAccount(userId),
        keys.pointsAwards(userId),
        keys.pointsLedger(userId),
        `${reason}:${ref}`,
        String(points),
        reason,
        ref,
        String(LEDGER_CAP),
      );
      return { created: created === 1, balance: Number(balance), earned: Number(earned) };
    },

    async account(userId: number): Promise<{ balance: number; earned: number }> {
      const [balance, earned] = await redis.hmget(keys.pointsAccount(userId), 'balance', 'earned');
      return { balance: Number(balance ?? 0), earned: Number(earned ?? 0) };
    },

    /** Newest first. */
    async ledger(userId: number, limit: number): Promise<PointsLedgerEntry[]> {
      const rows = await redis.lrange(keys.pointsLedger(userId), 0, Math.min(limit, LEDGER_CAP) - 1);
      return rows.map(parseLedgerEntry).filter((e): e is PointsLedgerEntry => e !== null);
    },

    async hasAward(userId: number, reason: AwardReason, ref: string): Promise<boolean> {
      return (await redis.hexists(keys.pointsAwards(userId), `${reason}:${ref}`)) === 1;
    },

    /** Number of awards ever made to a user (for audits and tests). */
    async awardCount(userId: number): Promise<number> {
      return redis.hlen(keys.pointsAwards(userId));
    },
  };
}
export type PointsStore = ReturnType<typeof createPointsStore>;
