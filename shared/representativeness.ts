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

/** `GET /api/polls/:id/representativeness` and the snapshot's `representativeness`. */
export const representativenessSchema = z.object({
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
  /** Raw counts (complete profiles) next to weighted ones, per question and option. */
  questions: z.array(
    z.object({
      id: z.string(),
      answered: count,
      weightedAnswered: z.number(),
      options: z.array(z.object({ id: z.string(), raw: count, weighted: z.number() })),
    }),
  ),
});
export type Representativeness = z.infer<typeof representativenessSchema>;
