import type { Result } from 'ioredis';
import type { Redis } from '../redis/connection.ts';
import type { Keys } from '../redis/keys.ts';
import { LEDGER_CAP } from '../../shared/points.ts';
import { redemptionSchema, type Redemption, type Reward } from '../../shared/rewards.ts';

declare module 'ioredis' {
  interface RedisCommander<Context> {
    /** server/redis/scripts/redeem-hold-3.lua: {'ok'|'exists'|'insufficient', balance}. */
    redeemHold(accountKey: string, redemptionsKey: string, ledgerKey: string, id: string, price: string, json: string, cap: string): Result<[string, number], Context>;
    /** server/redis/scripts/redeem-settle-3.lua: {'done'|'refunded'|'none', balance}. */
    redeemSettle(accountKey: string, redemptionsKey: string, ledgerKey: string, id: string, outcome: 'sold' | 'refund', code: string, cap: string): Result<[string, number], Context>;
    /** server/redis/scripts/reward-claim-2.lua: {decision or refusal}. */
    rewardClaim(rewardKey: string, claimsKey: string, id: string, mode: 'claim' | 'cancel', price: string): Result<[string], Context>;
  }
}

export type ClaimResult = 'sold' | 'cancelled' | 'out_of_stock' | 'inactive' | 'price_changed' | 'not_found';

function fromHash(id: number, h: Record<string, string>): Reward | null {
  if (!h.name) return null;
  return {
    id,
    name: h.name,
    description: h.description ?? '',
    price: Number(h.price),
    stock: Number(h.stock),
    sold: Number(h.sold ?? 0),
    active: h.active === '1',
    createdAt: h.createdAt,
    updatedAt: h.updatedAt,
  };
}

/**
 * The catalog (reward hash in the reward's slot `{r:<id>}`, with the claim decisions) and the user-side
 * redemption records (in the user's slot `{u:<id>}`, next to the points account they debit).
 */
export function createRewardStore(redis: Redis, keys: Keys) {
  const userKeys = (userId: number) => [keys.pointsAccount(userId), keys.userRedemptions(userId), keys.pointsLedger(userId)] as const;
  const store = {
    async create(r: { name: string; description: string; price: number; stock: number; active: boolean }): Promise<Reward> {
      const id = await redis.incr(keys.rewardSeq());
      const now = new Date().toISOString();
      await redis.hset(keys.reward(id), {
        name: r.name,
        description: r.description,
        price: String(r.price),
        stock: String(r.stock),
        sold: '0',
        active: r.active ? '1' : '0',
        createdAt: now,
        updatedAt: now,
      });
      await redis.zadd(keys.rewardIndex(), Date.now(), String(id));
      return (await store.get(id))!;
    },

    async get(id: number): Promise<Reward | null> {
      return fromHash(id, await redis.hgetall(keys.reward(id)));
    },

    /** Patch fields of an existing reward (HSET on one key: atomic against the claim script). */
    async update(id: number, patch: Partial<Pick<Reward, 'name' | 'description' | 'price' | 'stock' | 'active'>>): Promise<Reward | null> {
      if (!(await redis.exists(keys.reward(id)))) return null;
      const fields: Record<string, string> = { updatedAt: new Date().toISOString() };
      for (const [k, v] of Object.entries(patch)) {
        if (v === undefined) continue;
        fields[k] = typeof v === 'boolean' ? (v ? '1' : '0') : String(v);
      }
      await redis.hset(keys.reward(id), fields);
      return store.get(id);
    },

    async list(): Promise<Reward[]> {
      const ids = (await redis.zrange(keys.rewardIndex(), 0, -1)).map(Number);
      if (!ids.length) return [];
      const p = redis.pipeline();
      for (const id of ids) p.hgetall(keys.reward(id));
      const res = (await p.exec()) ?? [];
      return ids
        .map((id, i) => {
          const [err, h] = res[i] ?? [];
          if (err) throw err;
          return fromHash(id, (h ?? {}) as Record<string, string>);
        })
        .filter((r): r is Reward => r !== null);
    },

    /** Note a redemption as started, before any step (a crash after this leaves a trace to settle). */
    async markPending(rewardId: number, userId: number, id: string, atMs: number): Promise<void> {
      await redis.zadd(keys.rewardPending(), atMs, `${rewardId}:${userId}:${id}`);
    },

    async clearPending(rewardId: number, userId: number, id: string): Promise<void> {
      await redis.zrem(keys.rewardPending(), `${rewardId}:${userId}:${id}`);
    },

    /** Pending redemptions started before `beforeMs`. */
    async stalePending(beforeMs: number, limit = 500): Promise<{ rewardId: number; userId: number; id: string }[]> {
      const rows = await redis.zrangebyscore(keys.rewardPending(), '-inf', beforeMs, 'LIMIT', 0, limit);
      return rows.flatMap((m) => {
        const [r, u, id] = m.split(':');
        return r && u && id ? [{ rewardId: Number(r), userId: Number(u), id }] : [];
      });
    },

    /** Step 1 (user slot): debit the price as a hold, never below zero. */
    async hold(userId: number, red: Redemption): Promise<{ result: 'ok' | 'exists' | 'insufficient'; balance: number }> {
      const [result, balance] = await redis.redeemHold(...userKeys(userId), red.id, String(red.price), JSON.stringify(red), String(LEDGER_CAP));
      return { result: result as 'ok' | 'exists' | 'insufficient', balance: Number(balance) };
    },

    /** Step 2 (reward slot): take one unit for the redemption, or cancel it; the decision is final. */
    async claim(rewardId: number, id: string, mode: 'claim' | 'cancel', price: number): Promise<ClaimResult> {
      const [result] = await redis.rewardClaim(keys.reward(rewardId), keys.rewardClaims(rewardId), id, mode, String(price));
      return result as ClaimResult;
    },

    /** Step 3 (user slot): done with the code, or refunded. Idempotent. */
    async settle(userId: number, id: string, outcome: 'sold' | 'refund', code: string): Promise<{ status: 'done' | 'refunded' | 'none'; balance: number }> {
      const [status, balance] = await redis.redeemSettle(...userKeys(userId), id, outcome, code, String(LEDGER_CAP));
      return { status: status as 'done' | 'refunded' | 'none', balance: Number(balance) };
    },

    async redemption(userId: number, id: string): Promise<Redemption | null> {
      const raw = await redis.hget(keys.userRedemptions(userId), id);
      return raw ? parseRedemption(raw) : null;
    },

    /** Newest first. */
    async redemptions(userId: number): Promise<Redemption[]> {
      const all = Object.values(await redis.hgetall(keys.userRedemptions(userId)))
        .map(parseRedemption)
        .filter((r): r is Redemption => r !== null);
      return all.sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0));
    },
  };
  return store;
}
export type RewardStore = ReturnType<typeof createRewardStore>;

function parseRedemption(raw: string): Redemption | null {
  try {
    const r = redemptionSchema.safeParse(JSON.parse(raw));
    return r.success ? r.data : null;
  } catch {
    // a corrupt entry reads as absent (callers skip it) rather than failing the whole list
    return null;
  }
}
