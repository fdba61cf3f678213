import { AGE_BANDS, ageBandOf, type Audience, type Poll } from '../../shared/polls.ts';
import { okrugOf } from '../../shared/districts.ts';
import { cellParts, MARGINS, withholdSmallSplit, type Margin, type PanelGroup, type Representativeness } from '../../shared/representativeness.ts';
import { mergeSmallGroups } from '../ballots/ballot.service.ts';
import type { OpenCountStore } from '../integrity/open-count.store.ts';
import type { PopulationRow } from './population-file.ts';
import type { ResidentCellsStore } from './resident-cells.store.ts';
import { rake } from './raking.ts';
import { cellsInAudience } from './electorate.ts';

/** Ages an age band spans (for matching a poll's audience to population rows given by band). */
const BAND_AGES: Record<(typeof AGE_BANDS)[number], [number, number]> = {
  under18: [0, 17],
  '18-24': [18, 24],
  '25-34': [25, 34],
  '35-44': [35, 44],
  '45-54': [45, 54],
  '55-64': [55, 64],
  '65plus': [65, 200],
};

type MarginCounts = Record<Margin, Map<string, number>>;
const emptyMargins = (): MarginCounts => ({ okrug: new Map(), ageBand: new Map(), gender: new Map() });
const add = (m: MarginCounts, okrug: string, band: string, gender: string, n: number) => {
  for (const [margin, key] of [['okrug', okrug], ['ageBand', band], ['gender', gender]] as const) m[margin].set(key, (m[margin].get(key) ?? 0) + n);
};

/**
 * The representativeness panel: turnout per okrug, age band and gender against the eligible base
 * (registered residents with a complete profile inside the poll's audience), and a weighted result raked
 * to the official population (POPULATION_FILE) when supplied, else to the eligible base. Every group
 * under the anonymity threshold is merged into "other"; cell-level counts are never returned; per-question
 * figures are withheld while either side of the complete/incomplete-profile split is a small group (the
 * results minus the panel would show that side's votes: `withholdSmallSplit`).
 */
export function createRepresentativenessService(deps: {
  residents: Pick<ResidentCellsStore, 'all'>;
  counts: Pick<OpenCountStore, 'counts'>;
  population: readonly PopulationRow[] | null;
  minGroup: number;
}) {
  const { minGroup } = deps;

  function eligibleBase(cells: Record<string, number>, audience: Audience, year: number): MarginCounts {
    const out = emptyMargins();
    for (const [district, birthYear, gender, n] of cellsInAudience(cells, audience, year)) {
      const okrug = okrugOf(district);
      if (okrug) add(out, okrug, ageBandOf(birthYear, year), gender, n);
    }
    return out;
  }

  function populationOf(audience: Audience): MarginCounts | null {
    if (!deps.population) return null;
    const out = emptyMargins();
    const lo = audience.minAge ?? 0;
    const hi = audience.maxAge ?? 200;
    for (const r of deps.population) {
      const [a, b] = BAND_AGES[r.age_band];
      const okrug = okrugOf(r.district);
      // a band overlapping the audience's ages counts whole: population figures come by band only
      if (!okrug || (audience.districts.length && !audience.districts.includes(r.district)) || b < lo || a > hi) continue;
      add(out, okrug, r.age_band, r.gender, r.count);
    }
    return [...out.okrug.values()].some((n) => n > 0) ? out : null;
  }

  function groups(voters: Map<string, number>, eligible: Map<string, number>, population: Map<string, number> | null): PanelGroup[] {
    const visible = new Set(mergeSmallGroups(Object.fromEntries(voters), minGroup).map((g) => g.key).filter((k) => k !== 'other'));
    const keys = new Set([...voters.keys(), ...eligible.keys(), ...(population?.keys() ?? [])]);
    const rows = new Map<string, { voters: number; eligible: number; population: number }>();
    for (const k of keys) {
      const into = visible.has(k) ? k : 'other';
      const r = rows.get(into) ?? { voters: 0, eligible: 0, population: 0 };
      r.voters += voters.get(k) ?? 0;
      r.eligible += eligible.get(k) ?? 0;
      r.population += population?.get(k) ?? 0;
      rows.set(into, r);
    }
    return [...rows]
      .map(([key, r]) => ({ key, voters: r.voters, eligible: r.eligible, turnout: r.eligible > 0 ? r.voters / r.eligible : null, population: population ? r.population : null }))
      .sort((x, y) => (x.key === 'other' ? 1 : y.key === 'other' ? -1 : y.voters - x.voters || x.key.localeCompare(y.key)));
  }

  return {
    async compute(poll: Pick<Poll, 'id' | 'shards' | 'audience' | 'questions'>, ballots: number, year = new Date().getUTCFullYear()): Promise<Representativeness> {
      const [counts, residents] = await Promise.all([deps.counts.counts(poll.id, poll.shards), deps.residents.all()]);
      const base = eligibleBase(residents, poll.audience, year);
      const population = populationOf(poll.audience);
      const voters = emptyMargins();
      const cells = Object.entries(counts.cells).filter(([, n]) => n > 0);
      for (const [cell, n] of cells) add(voters, ...cellParts(cell), n);
      const described = cells.reduce((s, [, n]) => s + n, 0);

      const targets = population ?? base;
      const hasTargets = [...targets.okrug.values()].some((n) => n > 0);
      const raked = described > 0 && hasTargets ? rake(cells.map(([cell, n]) => ({ cats: cellParts(cell), n })), MARGINS.map((m) => targets[m]), { minGroup }) : null;
      const weightOf = new Map(cells.map(([cell], i) => [cell, raked ? raked.weights[i] : 1]));
      const sum = (field: string, weighted: boolean) => cells.reduce((s, [cell]) => s + (counts.cellFields[`${cell}|${field}`] ?? 0) * (weighted ? weightOf.get(cell)! : 1), 0);

      return withholdSmallSplit({
        pollId: poll.id,
        minGroup,
        eligible: [...base.okrug.values()].reduce((s, n) => s + n, 0),
        voters: described,
        incomplete: Math.max(0, ballots - described),
        turnout: {
          okrug: groups(voters.okrug, base.okrug, population?.okrug ?? null),
          ageBand: groups(voters.ageBand, base.ageBand, population?.ageBand ?? null),
          gender: groups(voters.gender, base.gender, population?.gender ?? null),
        },
        weighting: raked
          ? {
              targets: population ? 'population' : 'registered',
              n: raked.n,
              converged: raked.converged,
              iterations: raked.iterations,
              effectiveSampleSize: raked.effectiveSampleSize,
              maxWeight: raked.maxWeight,
              tooSmall: MARGINS.map((margin, m) => ({ margin, keys: raked.merged[m] })).filter((x) => x.keys.length),
            }
          : null,
        questions: poll.questions.map((q) => ({
          id: q.id,
          answered: sum(`a:${q.id}`, false),
          weightedAnswered: sum(`a:${q.id}`, true),
          options: q.options.map((o) => ({ id: o.id, raw: sum(`o:${q.id}:${o.id}`, false), weighted: sum(`o:${q.id}:${o.id}`, true) })),
        })),
      });
    },
  };
}
export type RepresentativenessService = ReturnType<typeof createRepresentativenessService>;
