import { z } from 'zod';
import { pollResultsSchema } from './polls.ts';
import { answerDeadlineSchema, decisionSchema } from './decisions.ts';

// Owned by the archive / open-data domain.

/** `GET /api/archive?q=&page=&pageSize=`: closed and finalised polls, newest (by close time) first. */
export const archiveQuerySchema = z
  .object({
    q: z.string().trim().max(200).default(''),
    page: z.coerce.number().int().min(1).max(10_000).default(1),
    pageSize: z.coerce.number().int().min(1).max(50).default(20),
  })
  .strict();
export type ArchiveQuery = z.infer<typeof archiveQuerySchema>;

export const archiveItemSchema = answerDeadlineSchema.extend({
  pollId: z.number().int(),
  title: z.string(),
  description: z.string(),
  status: z.enum(['closed', 'finalised']),
  closesAt: z.string().nullable(),
  closedAt: z.string().nullable(),
  finalisedAt: z.string().nullable(),
  /** The finalised snapshot's results, or the current tallies of a closed, not yet finalised poll. null if not public. */
  results: pollResultsSchema.nullable(),
  decision: decisionSchema.nullable(),
});
export type ArchiveItem = z.infer<typeof archiveItemSchema>;

export const archivePageSchema = z.object({
  items: z.array(archiveItemSchema),
  page: z.number().int(),
  pageSize: z.number().int(),
  total: z.number().int(),
});
export type ArchivePage = z.infer<typeof archivePageSchema>;

/** CSV columns of `GET /api/polls/:id/results.csv` (one row per option, then one per breakdown group). */
export const RESULTS_CSV_HEADER = ['poll_id', 'row_type', 'question_id', 'question_text', 'option_id', 'option_text', 'group', 'count'] as const;
