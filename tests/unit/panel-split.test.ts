import { describe, it, expect } from 'vitest';
import { panelWithheld, representativenessSchema } from '../../shared/representativeness.ts';
import { pollFinalSchema } from '../../shared/polls.ts';

// The representativeness panel's split rule: per-question figures over the complete profiles are published
// only while both sides of the split (complete / incomplete profiles) are empty or at least minGroup.
const question = { id: 'q1', answered: 5, weightedAnswered: 5, options: [{ id: 'o1', raw: 4, weighted: 3.5 }, { id: 'o2', raw: 1, weighted: 1.5 }] };
/** A panel as finalisation froze it before the rule existed: no `withheld`, every figure present. */
const stored = (voters: number, incomplete: number) => ({
  pollId: 7,
  minGroup: 5,
  eligible: 40,
  voters,
  incomplete,
  turnout: { okrug: [{ key: 'other', voters, eligible: 40, turnout: voters / 40, population: null }], ageBand: [], gender: [] },
  weighting: null,
  questions: [question],
});

describe('the panel split rule', () => {
  it('when either side of the split holds 1..minGroup-1 ballots, then it is withheld, naming the side; 0 or minGroup and over is shown', () => {
    const at = (voters: number, incomplete: number) => panelWithheld({ voters, incomplete, minGroup: 5 })?.reason ?? null;
    expect(at(10, 1)).toBe('incomplete_below_min_group');
    expect(at(10, 4)).toBe('incomplete_below_min_group');
    expect(at(4, 10)).toBe('described_below_min_group');
    expect(at(1, 0)).toBe('described_below_min_group');
    expect(at(10, 0)).toBeNull();
    expect(at(0, 10)).toBeNull();
    expect(at(5, 5)).toBeNull();
    expect(at(0, 0)).toBeNull();
  });

  it('when a snapshot frozen before the rule holds a panel with 1 incomplete ballot, then reading it (alone or inside the snapshot) drops the per-question figures and says why', () => {
    const panel = representativenessSchema.parse(stored(9, 1));
    expect(panel.withheld).toEqual({ reason: 'incomplete_below_min_group', minGroup: 5 });
    expect(panel.questions).toEqual([]);
    expect(panel.turnout.okrug[0].voters).toBe(9);
    const final = pollFinalSchema.parse({
      pollId: 7,
      finalisedAt: new Date().toISOString(),
      results: { pollId: 7, version: 10, ballots: 10, questions: [{ id: 'q1', respondents: 10, options: [{ id: 'o1', count: 4 }, { id: 'o2', count: 6 }] }], breakdown: { district: [], ageBand: [], minGroup: 5 } },
      representativeness: stored(9, 1),
    });
    expect(final.representativeness).toMatchObject({ withheld: { reason: 'incomplete_below_min_group' }, questions: [] });
  });

  it('when a stored panel splits into groups of minGroup or more, then it reads back whole with withheld null', () => {
    const panel = representativenessSchema.parse(stored(5, 5));
    expect(panel.withheld).toBeNull();
    expect(panel.questions).toEqual([question]);
  });
});
