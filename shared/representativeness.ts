import { z } from 'zod';

/** The margins a poll's respondents are described (and weighted) by. */
export const MARGINS = ['okrug', 'ageBand', 'gender'] as const;
export type Margin = (typeof MARGINS)[number];

/** A respondent cell: okrug, age band and gender joined by '|' (none of them contains one). */
export const cellKey = (okrug: string, ageBand: string, gender: string) => `${okrug}|${ageBand}|${gender}`;
export const cellParts = (cell: string): [string, string, string] => cell.split('|') as [string, string, string];

const count = z.number().int().min(0);

/** One group of a margin: voters (complete profiles), the eligible base, official population if supplied. */
export const panelGroupSchema = z.object({
  key: z.string(),
  voters: count,
  eligible: count,
  /** voters / eligible; null when the base is 0. */
  turnout: z.number().nullable(),
  population: count.nullable(),
});
export type PanelGroup = z.infer<typeof panelGroupSchema>;

/**
 * Why a panel carries no per-question figures. The panel splits a poll's ballots in two: those from complete
 * profiles (`voters`, described by cells) and the rest (`incomplete`). The public results count both, so
 * per-option counts over one side give the other side's by subtraction: both sides must be empty or hold at
 * least `minGroup` ballots, as any breakdown group must, or the per-question block (raw and weighted) is withheld.
 */
export const panelWithheldSchema = z
  .object({
    reason: z.enum(['incomplete_below_min_group', 'described_below_min_group']),
    minGroup: z.number().int(),
  })
  .describe('Per-question figures withheld: the ballots from incomplete (or from complete) profiles are 1..minGroup-1, and the results minus the panel would show their votes');
export type PanelWithheld = z.infer<typeof panelWithheldSchema>;

/** Whether the split of `voters` (complete profiles) and `incomplete` ballots leaves a side under `minGroup`. */
export function panelWithheld(p: { voters: number; incomplete: number; minGroup: number }): PanelWithheld | null {
  const small = (n: number) => n > 0 && n < p.minGroup;
  if (small(p.incomplete)) return { reason: 'incomplete_below_min_group', minGroup: p.minGroup };
  if (small(p.voters)) return { reason: 'described_below_min_group', minGroup: p.minGroup };
  return null;
}

/** A panel under the split rule: per-question figures dropped (and `withheld` saying why) when a side is small. */
export function withholdSmallSplit(p: Omit<Panel, 'withheld'>): Panel {
  const withheld = panelWithheld(p);
  return withheld ? { ...p, withheld, questions: [] } : { ...p, withheld: null };
}

const panelObjectSchema = z.object({
  pollId: z.number().int(),
  /** Groups under this many voters are merged into "other" (RESULTS_MIN_GROUP_SIZE). */
  minGroup: z.number().int(),
  /** Registered residents with a complete profile inside the poll's audience. */
  eligible: count,
  /** Ballots from complete profiles (described by cells) and from incomplete ones (not weighted). */
  voters: count,
  incomplete: count,
  turnout: z.object({ okrug: z.array(panelGroupSchema), ageBand: z.array(panelGroupSchema), gender: z.array(panelGroupSchema) }),
  /** Raking over the margins; null when there is nothing to weight. */
  weighting: z
    .object({
      targets: z.enum(['population', 'registered']),
      n: count,
      converged: z.boolean(),
      iterations: count,
      effectiveSampleSize: z.number(),
      maxWeight: z.number(),
      /** Categories merged into their margin's "other" because too few voters (or no target) were in them. */
      tooSmall: z.array(z.object({ margin: z.enum(MARGINS), keys: z.array(z.string()) })),
    })
    .nullable(),
  /** Set when the per-question figures are withheld (then `questions` is empty); null when they are shown. */
  withheld: panelWithheldSchema.nullable(),
  /** Raw counts (complete profiles) next to weighted ones, per question and option; empty when withheld. */
  questions: z.array(
    z.object({
      id: z.string(),
      answered: count,
      weightedAnswered: z.number(),
      options: z.array(z.object({ id: z.string(), raw: count, weighted: z.number() })),
    }),
  ),
});

type Panel = z.infer<typeof panelObjectSchema>;

/**
 * `GET /api/polls/:id/representativeness` and the snapshot's `representativeness`. Every parse applies the
 * split rule (`withholdSmallSplit`), so a panel frozen into a snapshot before the rule existed is read, and
 * served, under it too.
 */
export const representativenessSchema = z.preprocess((v) => {
  if (!v || typeof v !== 'object' || Array.isArray(v)) return v;
  const p = v as Record<string, unknown>;
  const ok = ['voters', 'incomplete', 'minGroup'].every((k) => typeof p[k] === 'number') && Array.isArray(p.questions);
  // the rest of the shape is checked by the schema after this step
  return ok ? withholdSmallSplit(p as Omit<Panel, 'withheld'>) : v;
}, panelObjectSchema);
export type Representativeness = z.infer<typeof representativenessSchema>;
