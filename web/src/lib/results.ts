/**
 * What a results chart shows, computed once for every view (poll page, projector, dashboard, official).
 * A share is of the people who answered the question (its respondents), never of the choices made: on a
 * multi-choice question the shares may add up to more than 100, and a bar's length is its share of 100.
 */
import type { PollResults } from '$shared/values/polls.ts';

/** Digits after the decimal point of a displayed share. */
export const SHARE_DECIMALS = 1;

/**
 * Shares in percent of `base` at SHARE_DECIMALS precision. When the counts partition the base (a
 * single-choice question, a breakdown), the largest-remainder method makes the displayed shares add up
 * to exactly 100: 1/1/1 gives 33.4 + 33.3 + 33.3, not 33.3 three times. Otherwise each share is rounded
 * on its own. A base of 0 gives 0 everywhere.
 */
export function shares(counts: number[], base: number, partition: boolean): number[] {
  const unit = 10 ** SHARE_DECIMALS;
  if (base <= 0) return counts.map(() => 0);
  if (!partition) return counts.map((c) => Math.round((c / base) * 100 * unit) / unit);
  const scaled = counts.map((c) => (c / base) * 100 * unit);
  const floors = scaled.map(Math.floor);
  let left = 100 * unit - floors.reduce((s, f) => s + f, 0);
  // the largest remainders get the missing units; ties go to the larger count, then the earlier row
  const order = scaled.map((v, i) => i).sort((a, b) => scaled[b] - floors[b] - (scaled[a] - floors[a]) || counts[b] - counts[a] || a - b);
  for (const i of order) {
    if (left <= 0) break;
    if (scaled[i] - floors[i] > 0) {
      floors[i] += 1;
      left -= 1;
    }
  }
  return floors.map((f) => f / unit);
}

export type QuestionDef = { id: string; kind: 'single' | 'multi'; options: { id: string; label: string }[] };

/**
 * A question's respondents: the server's count when the results carry it; a snapshot from before it
 * was kept falls back to the option sum for a single-choice question (one choice each) and to the
 * ballots for a multi-choice one.
 */
export function respondentsOf(q: QuestionDef, r: PollResults['questions'][number] | undefined, ballots: number): number {
  if (r?.respondents !== undefined) return r.respondents;
  if (q.kind === 'single') return (r?.options ?? []).reduce((s, o) => s + o.count, 0);
  return ballots;
}

export type ChartRow = { id: string; label: string; count: number; share: number; mine?: boolean };

/** One question's chart rows and base, in the definition's option order. */
export function questionRows(q: QuestionDef, results: PollResults, mine: readonly string[] = []): { base: number; rows: ChartRow[] } {
  const r = results.questions.find((x) => x.id === q.id);
  const counts = new Map((r?.options ?? []).map((o) => [o.id, o.count]));
  const base = respondentsOf(q, r, results.ballots);
  const values = q.options.map((o) => counts.get(o.id) ?? 0);
  const pct = shares(values, base, q.kind === 'single');
  return { base, rows: q.options.map((o, i) => ({ id: o.id, label: o.label, count: values[i], share: pct[i], mine: mine.includes(o.id) })) };
}

/** Breakdown groups (they partition the ballots) as chart rows. */
export function groupRows(groups: { key: string; ballots: number }[], label: (key: string) => string): ChartRow[] {
  const pct = shares(groups.map((g) => g.ballots), groups.reduce((s, g) => s + g.ballots, 0), true);
  return groups.map((g, i) => ({ id: g.key, label: label(g.key), count: g.ballots, share: pct[i] }));
}
