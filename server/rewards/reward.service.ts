import { randomBytes, randomInt } from 'node:crypto';
import type { Logger } from '../logger.ts';
import { AppError } from '../errors.ts';
import type { PointsService } from '../points/points.service.ts';
import type { Redemption, Reward, RewardPatch } from '../../shared/rewards.ts';
import type { RewardStore } from './reward.store.ts';

const CODE_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';
/** The code a resident shows to collect a reward: AC-XXXX-XXXX (no 0/O, 1/I). */
export function redemptionCode(): string {
  let s = '';
  for (let i = 0; i < 8; i++) s += CODE_ALPHABET[randomInt(CODE_ALPHABET.length)];
  return `AC-${s.slice(0, 4)}-${s.slice(4)}`;
}

/**
 * The rewards shop. A redemption is three single-slot atomic steps (a user's balance and a reward's
 * stock live in different Cluster slots, so no one script may touch both):
 *   1. hold   (user slot)   debit the price if balance ≥ price — never below zero — and record it pending;
 *   2. claim  (reward slot) take one unit if stock > 0 (and the price and reward are as charged); the
 *                           decision, sold or cancelled, is written once per redemption id;
 *   3. settle (user slot)   sold → done with the resident's code; otherwise refund the hold.
 * Debit first means only residents who can pay ever take stock: no overdraft (step 1), no oversell
 * (step 2), and no unit is ever blocked by someone who cannot pay. A crash between steps leaves a
 * pending record; `reconcile()` (a repeatable worker job) cancels or completes it through the same
 * final decision in step 2, so a late step can never both refund and sell.
 */
export function createRewardService(deps: { store: RewardStore; points: PointsService; logger: Logger }) {
  const { store, points, logger } = deps;

  async function finish(userId: number, rewardId: number, id: string, decision: string): Promise<{ status: string; balance: number }> {
    const settled = await store.settle(userId, id, decision === 'sold' ? 'sold' : 'refund', redemptionCode());
    await store.clearPending(rewardId, userId, id);
    return settled;
  }

  return {
    list: async (opts: { includeInactive: boolean }): Promise<Reward[]> => (await store.list()).filter((r) => opts.includeInactive || r.active),

    async get(id: number): Promise<Reward> {
      const r = await store.get(id);
      if (!r) throw new AppError('not_found', `No reward ${id}`);
      return r;
    },

    create: store.create,

    async update(id: number, patch: RewardPatch): Promise<Reward> {
      const r = await store.update(id, patch);
      if (!r) throw new AppError('not_found', `No reward ${id}`);
      return r;
    },

    async redeem(userId: number, rewardId: number): Promise<{ redemption: Redemption; balance: number }> {
      const reward = await store.get(rewardId);
      if (!reward || !reward.active) throw new AppError('not_found', `No reward ${rewardId} on sale`);
      if (reward.stock <= 0) throw new AppError('out_of_stock', `“${reward.name}” is out of stock`);
      const red: Redemption = {
        id: randomBytes(12).toString('base64url'),
        rewardId,
        rewardName: reward.name,
        price: reward.price,
        status: 'pending',
        code: null,
        createdAt: new Date().toISOString(),
      };
      await store.markPending(rewardId, userId, red.id, Date.now());
      const held = await store.hold(userId, red);
      if (held.result === 'insufficient') {
        await store.clearPending(rewardId, userId, red.id);
        throw new AppError('insufficient_points', `“${reward.name}” costs ${reward.price} points; your balance is ${held.balance}`, {
          price: reward.price,
          balance: held.balance,
        });
      }
      const decision = await store.claim(rewardId, red.id, 'claim', reward.price);
      const settled = await finish(userId, rewardId, red.id, decision);
      if (decision !== 'sold') {
        // best effort: a missed push only delays the client's balance until its next read
        void points.pushBalance(userId, 0, 'refund').catch((err) => logger.warn({ err, userId }, 'balance push failed'));
        if (decision === 'out_of_stock' || decision === 'cancelled') throw new AppError('out_of_stock', `“${reward.name}” is out of stock`);
        if (decision === 'price_changed') throw new AppError('conflict', 'The price changed; look again and retry', { rewardId });
        throw new AppError('not_found', `No reward ${rewardId} on sale`);
      }
      void points.pushBalance(userId, -reward.price, 'redeem').catch((err) => logger.warn({ err, userId }, 'balance push failed'));
      const done = await store.redemption(userId, red.id);
      return { redemption: done!, balance: settled.balance };
    },

    mine: (userId: number) => store.redemptions(userId),

    /**
     * Settle redemptions a crash left half-done (older than `olderThanMs`): the reward-slot decision is
     * made final first (cancel unless already sold), then the user's side follows it.
     */
    async reconcile(olderThanMs: number): Promise<{ sold: number; refunded: number; cleared: number }> {
      const out = { sold: 0, refunded: 0, cleared: 0 };
      for (const p of await store.stalePending(Date.now() - olderThanMs)) {
        const reward = await store.get(p.rewardId);
        const decision = await store.claim(p.rewardId, p.id, 'cancel', reward?.price ?? 0);
        const settled = await finish(p.userId, p.rewardId, p.id, decision);
        if (settled.status === 'refunded') out.refunded++;
        else if (settled.status === 'done') out.sold++;
        else out.cleared++;
        logger.warn({ ...p, decision, status: settled.status }, 'settled a half-done redemption');
      }
      return out;
    },
  };
}
export type RewardService = ReturnType<typeof createRewardService>;
