/**
 * Raking (iterative proportional fitting) of sample cells to population margins. Pure code: cells carry
 * one category per margin and a sample count; targets give each margin's population totals. Categories
 * with fewer than `minGroup` respondents (or no target) are merged into their margin's "other" before
 * weighting — never weighted, never shown alone.
 */

export type RakeCell = { cats: string[]; n: number };
export type RakeResult = {
  /** Weight per input cell (same order); 0 for empty cells. */
  weights: number[];
  /** Respondents weighted (sum of n); the weighted total equals it. */
  n: number;
  converged: boolean;
  iterations: number;
  /** Kish: (Σ n·w)² / Σ n·w². */
  effectiveSampleSize: number;
  maxWeight: number;
  /** Per margin, the original categories folded into "other". */
  merged: string[][];
};

export const OTHER = 'other';

/**
 * Per margin: which categories stand alone and which fold into OTHER. Small categories (sample < min, or
 * a target of 0) fold; while OTHER is itself small (or has no target) the smallest standing category
 * folds in too, so OTHER never stands under the threshold.
 */
export function mergeCategories(sample: Map<string, number>, target: Map<string, number>, min: number): Map<string, string> {
  const cats = [...new Set([...sample.keys(), ...target.keys()])];
  const s = (c: string) => sample.get(c) ?? 0;
  const t = (c: string) => target.get(c) ?? 0;
  const standing = cats.filter((c) => s(c) >= min && t(c) > 0).sort((a, b) => s(b) - s(a) || a.localeCompare(b));
  const folded = new Set(cats.filter((c) => !standing.includes(c)));
  const otherS = () => [...folded].reduce((x, c) => x + s(c), 0);
  const otherT = () => [...folded].reduce((x, c) => x + t(c), 0);
  while (standing.length && otherS() > 0 && (otherS() < min || otherT() === 0)) folded.add(standing.pop()!);
  const map = new Map<string, string>();
  for (const c of cats) map.set(c, folded.has(c) ? OTHER : c);
  return map;
}

export function rake(cells: RakeCell[], targets: Map<string, number>[], opts: { minGroup: number; maxIterations?: number; tolerance?: number }): RakeResult {
  const maxIt = opts.maxIterations ?? 200;
  const tol = opts.tolerance ?? 1e-9;
  const N = cells.reduce((s, c) => s + c.n, 0);
  const M = targets.length;
  const merged: string[][] = [];
  // per margin: each cell's merged category, and the merged targets scaled to N
  const cellCat: string[][] = cells.map(() => []);
  const scaled: Map<string, number>[] = [];
  for (let m = 0; m < M; m++) {
    const sample = new Map<string, number>();
    for (const c of cells) sample.set(c.cats[m], (sample.get(c.cats[m]) ?? 0) + c.n);
    const map = mergeCategories(sample, targets[m], opts.minGroup);
    merged.push([...map].filter(([c, to]) => to === OTHER && c !== OTHER).map(([c]) => c).sort());
    const t = new Map<string, number>();
    const hasSample = new Set<string>();
    cells.forEach((c, i) => {
      cellCat[i][m] = map.get(c.cats[m])!;
      if (c.n > 0) hasSample.add(cellCat[i][m]);
    });
    // a merged category without respondents cannot be matched: its target is dropped (the rest rescaled)
    for (const [c, v] of targets[m]) if (hasSample.has(map.get(c)!)) t.set(map.get(c)!, (t.get(map.get(c)!) ?? 0) + v);
    const total = [...t.values()].reduce((s, v) => s + v, 0);
    for (const [k, v] of t) t.set(k, total > 0 ? (v / total) * N : 0);
    scaled.push(t);
  }
  const w = cells.map((c) => (c.n > 0 ? 1 : 0));
  let converged = N === 0;
  let iterations = 0;
  while (!converged && iterations < maxIt) {
    iterations++;
    for (let m = 0; m < M; m++) {
      const cur = new Map<string, number>();
      cells.forEach((c, i) => cur.set(cellCat[i][m], (cur.get(cellCat[i][m]) ?? 0) + c.n * w[i]));
      cells.forEach((_, i) => {
        const target = scaled[m].get(cellCat[i][m]);
        const now = cur.get(cellCat[i][m])!;
        if (target !== undefined && now > 0) w[i] *= target / now;
      });
    }
    // converged when every margin holds after the full pass
    let worst = 0;
    for (let m = 0; m < M; m++) {
      const cur = new Map<string, number>();
      cells.forEach((c, i) => cur.set(cellCat[i][m], (cur.get(cellCat[i][m]) ?? 0) + c.n * w[i]));
      for (const [k, target] of scaled[m]) worst = Math.max(worst, Math.abs((cur.get(k) ?? 0) - target) / Math.max(1, target));
    }
    converged = worst < tol;
  }
  const sw = cells.reduce((s, c, i) => s + c.n * w[i], 0);
  const sw2 = cells.reduce((s, c, i) => s + c.n * w[i] * w[i], 0);
  return {
    weights: w,
    n: N,
    converged,
    iterations,
    effectiveSampleSize: sw2 > 0 ? (sw * sw) / sw2 : 0,
    maxWeight: Math.max(0, ...w),
    merged,
  };
}
