import { expect } from 'vitest';
import type { AppContext } from '../../server/context.ts';
import { castHttp, expectedReceipt, expectedVoterHash, pool, readLedger, type CastResult } from './faults.ts';

export type Voter = { user: { id: number }; headers: Record<string, string> };
export const answersOf = (i: number) => ({ q1: [['o1', 'o2', 'o3'][i % 3]], q2: [['o1', 'o2', 'o3', 'o4'][i % 4]] });

/**
 * Ballots the platform acknowledged: a 201, or a 409 `already_voted` carrying the voter's receipt (the
 * answer to a retry of a ballot that had landed). Every one must survive any fault.
 */
export function acknowledgements() {
  const acked = new Map<number, Record<string, string[]>>(); // userId -> answers
  return {
    acked,
    /** Record one answer; returns whether it acknowledged the ballot. */
    note(v: Voter, answers: Record<string, string[]>, pollId: number, r: CastResult): boolean {
      if (r.status === 201 || (r.status === 409 && r.code === 'already_voted')) {
        expect(r.receipt).toBe(expectedReceipt(pollId, v.user.id));
        acked.set(v.user.id, answers);
        return true;
      }
      return false;
    },
    /** Acknowledged ballots missing from the voter marks or the ledger (or there with other answers). */
    async lost(ctx: AppContext, pollId: number, shards: number): Promise<number> {
      const ledger = await readLedger(ctx, pollId, shards);
      const byHash = new Map(ledger.entries.map((e) => [e.v, e.a]));
      let lost = 0;
      for (const [userId, a] of acked) {
        const inLedger = byHash.get(expectedVoterHash(pollId, userId)) === JSON.stringify(a);
        if (!inLedger || !(await ctx.ballots.hasVoted(pollId, userId))) lost++;
      }
      return lost;
    },
  };
}

/**
 * Cast one ballot per voter over HTTP with `concurrency` in flight; `fault` runs once the `faultAt`-th
 * ballot is sent (the others are in flight around it). Returns every answer, in voter order.
 */
export async function castStream(opts: {
  url: string;
  pollId: number;
  voters: Voter[];
  answers: (v: Voter) => Record<string, string[]>;
  concurrency: number;
  acks: ReturnType<typeof acknowledgements>;
  faultAt?: number;
  fault?: () => Promise<void>;
}): Promise<{ results: CastResult[]; fault: Promise<void> | null }> {
  let sent = 0;
  let fault: Promise<void> | null = null;
  const results = await pool(opts.voters, opts.concurrency, async (v) => {
    if (++sent === opts.faultAt && opts.fault) fault = opts.fault();
    const a = opts.answers(v);
    const r = await castHttp(opts.url, v.headers, opts.pollId, a);
    opts.acks.note(v, a, opts.pollId, r);
    return r;
  });
  return { results, fault };
}

/** Status histogram of the answers that were not acknowledgements ("0" = no HTTP answer). */
export function refusals(results: CastResult[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of results) {
    if (r.status === 201 || r.status === 409) continue;
    const k = `${r.status}${r.code ? ` ${r.code}` : ''}`;
    out[k] = (out[k] ?? 0) + 1;
  }
  return out;
}
