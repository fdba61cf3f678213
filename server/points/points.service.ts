import type { Logger } from '../logger.ts';
import type { RealtimeEmitter } from '../realtime/emitter.ts';
import { levelOf, ACTIVE_CITIZEN_AT, type MyPoints } from '../../shared/points.ts';
import type { PointsFrame } from '../../shared/socket.ts';
import type { AwardOutcome, AwardReason, PointsStore } from './points.store.ts';

/**
 * Participation points: idempotent awards (pushed to the user's sockets when new), the balance with
 * level and ledger. The rewards shop debits through its own single-slot scripts.
 */
export function createPointsService(deps: { store: PointsStore; realtime: RealtimeEmitter; logger: Logger }) {
  const { store, realtime } = deps;
  return {
    async award(userId: number, reason: AwardReason, ref: string, points: number, at?: number): Promise<AwardOutcome> {
      const out = await store.award(userId, reason, ref, points, at);
      if (out.created) {
        realtime.toUser(userId, 'points', { balance: out.balance, delta: points, reason, level: levelOf(out.earned).level });
      }
      return out;
    },

    /**
     * The same award to many users (a vote award batch step): the awards pipelined, the new balances
     * pushed in bulk (one Redis message per few hundred users, not one per user). `at`: the ledger time.
     */
    async awardMany(userIds: number[], reason: AwardReason, ref: string, points: number, at?: number): Promise<AwardOutcome[]> {
      const outs = await Promise.all(userIds.map((uid) => store.award(uid, reason, ref, points, at)));
      const pushes: [number, PointsFrame][] = [];
      outs.forEach((out, i) => {
        if (out.created) pushes.push([userIds[i], { balance: out.balance, delta: points, reason, level: levelOf(out.earned).level }]);
      });
      if (pushes.length) realtime.toUsers('points', pushes);
      return outs;
    },

    /** Tell the user's sockets the balance after a debit or refund (shop). */
    async pushBalance(userId: number, delta: number, reason: string): Promise<void> {
      const { balance, earned } = await store.account(userId);
      realtime.toUser(userId, 'points', { balance, delta, reason, level: levelOf(earned).level });
    },

    async mine(userId: number, limit: number): Promise<MyPoints> {
      const [{ balance, earned }, ledger] = await Promise.all([store.account(userId), store.ledger(userId, limit)]);
      const { level, nextLevelAt } = levelOf(earned);
      return { balance, earned, level, activeCitizen: earned >= ACTIVE_CITIZEN_AT, nextLevelAt, ledger };
    },

    hasAward: store.hasAward,
  };
}
export type PointsService = ReturnType<typeof createPointsService>;
