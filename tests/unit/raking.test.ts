import { describe, it, expect } from 'vitest';
import { rake, mergeCategories, OTHER, type RakeCell } from '../../server/representativeness/raking.ts';

const margin = (cells: RakeCell[], w: number[], m: number) => {
  const out = new Map<string, number>();
  cells.forEach((c, i) => out.set(c.cats[m], (out.get(c.cats[m]) ?? 0) + c.n * w[i]));
  return out;
};

/** Two okrugs × two genders; the sample over-represents `a` three times over. */
function skewed(): { cells: RakeCell[]; targets: Map<string, number>[] } {
  return {
    cells: [
      { cats: ['a', 'female'], n: 300 },
      { cats: ['a', 'male'], n: 150 },
      { cats: ['b', 'female'], n: 50 },
      { cats: ['b', 'male'], n: 100 },
    ],
    // population: okrugs 50/50 (sample 75/25), genders 50/50 (sample 58/42)
    targets: [new Map([['a', 10_000], ['b', 10_000]]), new Map([['female', 10_000], ['male', 10_000]])],
  };
}

describe('raking (iterative proportional fitting)', () => {
  it('when a sample is raked, then the weights sum to N', () => {
    const { cells, targets } = skewed();
    const r = rake(cells, targets, { minGroup: 5 });
    const total = cells.reduce((s, c, i) => s + c.n * r.weights[i], 0);
    expect(r.n).toBe(600);
    expect(total).toBeCloseTo(600, 6);
  });

  it('when raking converges, then every margin matches its target scaled to N', () => {
    // three margins of three categories, an uneven sample, uneven targets
    const cells: RakeCell[] = [];
    let k = 0;
    for (const o of ['a', 'b', 'c']) for (const g of ['x', 'y', 'z']) for (const h of ['p', 'q', 'r']) cells.push({ cats: [o, g, h], n: 5 + ((k++ * 37) % 23) });
    const N = cells.reduce((s, c) => s + c.n, 0);
    const targets = [new Map([['a', 5], ['b', 3], ['c', 2]]), new Map([['x', 1], ['y', 1], ['z', 2]]), new Map([['p', 7], ['q', 2], ['r', 1]])];
    const r = rake(cells, targets, { minGroup: 5 });
    expect(r.converged).toBe(true);
    expect(r.iterations).toBeGreaterThan(1);
    targets.forEach((t, m) => {
      const total = [...t.values()].reduce((s, v) => s + v, 0);
      for (const [cat, v] of margin(cells, r.weights, m)) expect(v).toBeCloseTo((t.get(cat)! / total) * N, 6);
    });
    // Kish's effective sample size is below N when weights vary, and the largest weight is reported
    expect(r.effectiveSampleSize).toBeLessThan(N);
    expect(r.effectiveSampleSize).toBeGreaterThan(0);
    expect(r.maxWeight).toBe(Math.max(...r.weights));
  });

  it('when one okrug is over-represented three times over, then its weights drop below 1, the other\'s rise, and the weighted result shifts away from its favourite', () => {
    const { cells, targets } = skewed();
    const r = rake(cells, targets, { minGroup: 5 });
    // okrug a prefers option X (80 %), okrug b prefers Y (80 %)
    const x = cells.map((c) => (c.cats[0] === 'a' ? 0.8 : 0.2) * c.n);
    const raw = x.reduce((s, v) => s + v, 0) / 600;
    const weighted = x.reduce((s, v, i) => s + v * r.weights[i], 0) / 600;
    cells.forEach((c, i) => (c.cats[0] === 'a' ? expect(r.weights[i]).toBeLessThan(1) : expect(r.weights[i]).toBeGreaterThan(1)));
    expect(raw).toBeCloseTo(0.65, 6);
    expect(weighted).toBeLessThan(raw);
    expect(weighted).toBeCloseTo(0.5, 2); // okrugs 50/50 in the population: X and Y level
  });

  it('when categories hold fewer than minGroup respondents, then they are merged into "other" (which itself reaches the threshold) and listed, never weighted alone', () => {
    const cells: RakeCell[] = [
      { cats: ['a'], n: 100 },
      { cats: ['b'], n: 60 },
      { cats: ['c'], n: 3 },
      { cats: ['d'], n: 2 },
    ];
    const targets = [new Map([['a', 40], ['b', 40], ['c', 10], ['d', 10]])];
    const r = rake(cells, targets, { minGroup: 5 });
    expect(r.merged[0]).toEqual(['c', 'd']);
    // c and d share one weight: the merged category's, never one of their own
    expect(r.weights[2]).toBeCloseTo(r.weights[3], 12);
    const other = cells[2].n * r.weights[2] + cells[3].n * r.weights[3];
    expect(other).toBeCloseTo(165 * 0.2, 6);
    // "other" under the threshold folds the smallest standing category in too
    const m = mergeCategories(new Map([['a', 100], ['b', 6], ['c', 2], ['d', 30]]), new Map([['a', 1], ['b', 1], ['c', 1], ['d', 1]]), 10);
    expect([...m]).toEqual([['a', 'a'], ['b', OTHER], ['c', OTHER], ['d', OTHER]]);
    // a category the targets do not know is merged as well (it has nothing to be weighted to)
    expect(mergeCategories(new Map([['a', 50], ['b', 50], ['x', 20]]), new Map([['a', 1], ['b', 1]]), 5).get('x')).toBe(OTHER);
  });

  it('when there is nothing to weight, then it reports N=0 without dividing by zero', () => {
    const r = rake([], [new Map([['a', 1]])], { minGroup: 5 });
    expect(r).toMatchObject({ n: 0, converged: true, effectiveSampleSize: 0 });
  });
});
