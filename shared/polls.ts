import { z } from 'zod';

// Owned by the polls domain (issue 4). Other domains (live results, workers, decisions, web) depend on
// `PollStatus`, `PollResults` and `pollResultsSchema`: extend, don't rename.

export const POLL_STATUSES = ['draft', 'scheduled', 'active', 'closed', 'finalised'] as const;
export const pollStatusSchema = z.enum(POLL_STATUSES);
export type PollStatus = z.infer<typeof pollStatusSchema>;

/** Age bands used by targeting breakdowns. */
export const AGE_BANDS = ['under18', '18-24', '25-34', '35-44', '45-54', '55-64', '65plus'] as const;
export type AgeBand = (typeof AGE_BANDS)[number];

export const pollResultsSchema = z.object({
  pollId: z.number().int(),
  /** Tally version (sum over shards); grows with every accepted ballot. */
  version: z.number().int(),
  ballots: z.number().int(),
  questions: z.array(
    z.object({
      id: z.string(),
      options: z.array(z.object({ id: z.string(), count: z.number().int() })),
    }),
  ),
  /** Ballots per group; groups under the anonymity threshold are merged into "other". */
  breakdown: z.object({
    district: z.array(z.object({ key: z.string(), ballots: z.number().int() })),
    ageBand: z.array(z.object({ key: z.string(), ballots: z.number().int() })),
  }),
});
export type PollResults = z.infer<typeof pollResultsSchema>;
