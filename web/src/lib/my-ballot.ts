import { receiptStorageKey } from '$shared/values/polls.ts';

/**
 * This browser's own answers per poll, kept in localStorage so the results can mark "your answer". The
 * server never links a ballot to its voter (ballot secrecy), so only the device that voted knows it.
 */
const key = (pollId: number) => `ac:ballot:${pollId}`;

export function rememberBallot(pollId: number, answers: Record<string, string[]>): void {
  try {
    localStorage.setItem(key(pollId), JSON.stringify(answers));
  } catch {
    // storage full or disabled: the highlight is a nicety
  }
}

export function myBallot(pollId: number): Record<string, string[]> | null {
  try {
    const v: unknown = JSON.parse(localStorage.getItem(key(pollId)) ?? 'null');
    if (!v || typeof v !== 'object' || Array.isArray(v)) return null;
    const out: Record<string, string[]> = {};
    for (const [q, ids] of Object.entries(v)) if (Array.isArray(ids)) out[q] = ids.filter((x): x is string => typeof x === 'string');
    return out;
  } catch {
    return null;
  }
}

/**
 * The ballot's receipt, kept the same way (after a 201, or the 409 of a retry): the integrity page finds this
 * voter's row in the published ledger with it. Nobody but this browser's user sees it.
 */
export function rememberReceipt(pollId: number, receipt: unknown): void {
  if (typeof receipt !== 'string' || !receipt) return;
  try {
    localStorage.setItem(receiptStorageKey(pollId), receipt);
  } catch {
    // storage off (private mode): the voter can still type the receipt in
  }
}
