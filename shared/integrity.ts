import { z } from 'zod';
import { pollStatusSchema } from './polls.ts';
import { ledgerExportSchema } from './ledger.ts';

const count = z.number().int().min(0);

/** `GET /api/polls/:id/integrity`: the platform's own counters for one poll. */
export const pollIntegrityReportSchema = z.object({
  pollId: z.number().int(),
  status: pollStatusSchema,
  /** True until the final snapshot exists: the counters still move. */
  live: z.boolean(),
  finalisedAt: z.string().nullable(),
  ballots: count,
  /** Ballots refused: a second ballot of a voter, after the close, before the open, invalid (bad answers). */
  refused: z.object({ duplicate: count, late: count, early: count, invalid: count }),
  /** tallies == ledger == voters marked: from the finalise step once finalised, computed now before. */
  check: z.object({ source: z.enum(['finalise', 'live']), ballots: count, ledgerLength: count, votersMarked: count, ok: z.boolean() }),
  /** Points awards known made (the awarded bitmaps) against ballots, and the poll's points per ballot. */
  points: z.object({ perBallot: count, awarded: count, ballots: count }),
  /** Accepted ballots per minute (UTC minute start), in time order. */
  perMinute: z.array(z.object({ at: z.string(), ballots: count })),
  publicLedger: z.boolean(),
  /** Null until published (or when the poll's publicLedger is off). */
  ledger: ledgerExportSchema.nullable(),
});
export type PollIntegrityReport = z.infer<typeof pollIntegrityReportSchema>;
