import type { PollQuestion } from '../../shared/polls.ts';

/**
 * The one owner of the tally and breakdown hash field layout (per shard, summed by readers):
 * - tally:     `_ballots` (also the tally's version: it grows by one with every ballot and nothing else
 *              changes a tally), `a:<q>` (ballots that answered q), `o:<q>:<o>` (option count);
 * - breakdown: `d:<district>`, `a:<ageBand>` (ballots per group).
 * The cast script HINCRBYs the question, option and group fields it is given, so only this file knows
 * their names; it writes `_ballots` by name itself (scripts/cast-ballot-8.lua must match).
 */
export const tallyField = {
  ballots: '_ballots',
  /** The version live frames carry: the ballot count. */
  version: '_ballots',
  answered: (q: string) => `a:${q}`,
  option: (q: string, o: string) => `o:${q}:${o}`,
  district: (d: string) => `d:${d}`,
  ageBand: (band: string) => `a:${band}`,
} as const;

/** The tally fields one ballot increments: each answered question once, each chosen option once. */
export function ballotTallyFields(questions: readonly Pick<PollQuestion, 'id'>[], answers: Record<string, string[]>): { normal: Record<string, string[]>; fields: string[] } {
  const normal: Record<string, string[]> = {};
  const fields: string[] = [];
  for (const q of questions) {
    const chosen = answers[q.id];
    if (!chosen?.length) continue;
    normal[q.id] = chosen;
    fields.push(tallyField.answered(q.id), ...chosen.map((o) => tallyField.option(q.id, o)));
  }
  return { normal, fields };
}

/** A summed breakdown hash split into its two groupings. */
export function splitBreakdown(breakdown: Record<string, number>): { district: Record<string, number>; ageBand: Record<string, number> } {
  const district: Record<string, number> = {};
  const ageBand: Record<string, number> = {};
  for (const [f, n] of Object.entries(breakdown)) {
    if (f.startsWith('d:')) district[f.slice(2)] = n;
    else if (f.startsWith('a:')) ageBand[f.slice(2)] = n;
  }
  return { district, ageBand };
}
