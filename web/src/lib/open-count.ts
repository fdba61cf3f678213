/**
 * The browser's side of the open count: the receipt kept after voting, the SHA-256 of the published
 * ledger and of a receipt (Web Crypto), the recount of the ledger against the published results, and
 * finding one's own row. Pure functions over the downloaded bytes; nothing is sent anywhere: looking a
 * tag up on the server would tell it who is checking which ballot.
 */
import type { PollResults } from '$shared/values/polls.ts';
import { receiptStorageKey } from '$shared/values/polls.ts';

/** The receipt this browser kept after voting ('' when none). */
export function storedReceipt(pollId: number): string {
  try {
    return localStorage.getItem(receiptStorageKey(pollId)) ?? '';
  } catch {
    return '';
  }
}

export type LedgerRow = { tag: string; answers: Record<string, string[]> };
export type Recount = { rows: number; tallies: Record<string, Record<string, number>>; mismatches: string[] };

export async function sha256Hex(data: BufferSource | string): Promise<string> {
  const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
  const digest = await crypto.subtle.digest('SHA-256', bytes);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/** ledger.jsonl → rows; a line that is not a row is an error (the file is not the published one). */
export function parseLedger(text: string): LedgerRow[] {
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l, i) => {
      const r = JSON.parse(l) as LedgerRow;
      if (typeof r?.tag !== 'string' || typeof r.answers !== 'object' || r.answers === null) throw new Error(`line ${i + 1} is not a ledger row`);
      return r;
    });
}

/** Tallies recounted from the rows, compared option by option (and ballots) with the published results. */
export function recount(rows: LedgerRow[], results: Pick<PollResults, 'ballots' | 'questions'>): Recount {
  const tallies: Record<string, Record<string, number>> = {};
  for (const q of results.questions) tallies[q.id] = Object.fromEntries(q.options.map((o) => [o.id, 0]));
  const mismatches: string[] = [];
  for (const r of rows) {
    for (const [q, os] of Object.entries(r.answers)) {
      for (const o of os) {
        if (!tallies[q] || !(o in tallies[q])) mismatches.push(`unknown answer ${q}:${o}`);
        else tallies[q][o]++;
      }
    }
  }
  if (rows.length !== results.ballots) mismatches.push(`ballots: ledger ${rows.length}, results ${results.ballots}`);
  for (const q of results.questions) for (const o of q.options) if (tallies[q.id][o.id] !== o.count) mismatches.push(`${q.id}/${o.id}: ledger ${tallies[q.id][o.id]}, results ${o.count}`);
  return { rows: rows.length, tallies, mismatches };
}
