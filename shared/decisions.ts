import { z } from 'zod';
import { DECISION_STATUSES } from './values/decisions.ts';

// The decisions contract's schemas: city hall's answer to a finalised poll, its public timeline and the
// answer deadline. Values and types without zod: shared/values/decisions.ts (re-exported here).
export * from './values/decisions.ts';

export const decisionStatusSchema = z.enum(DECISION_STATUSES);

/** `POST /api/polls/:id/decision` body (officials). */
export const decisionCreateSchema = z
  .object({
    summary: z.string().trim().min(3).max(300),
    body: z.string().trim().min(1).max(10_000),
  })
  .strict();
export type DecisionCreate = z.infer<typeof decisionCreateSchema>;

/** `POST /api/polls/:id/decision/status` body (officials): the next step; a rejection needs a reason. */
export const decisionStepSchema = z
  .object({
    status: z.enum(['in_progress', 'implemented', 'rejected']),
    note: z.string().trim().min(1).max(2000).optional(),
    reason: z.string().trim().min(3).max(2000).optional(),
  })
  .strict()
  .superRefine((s, ctx) => {
    if (s.status === 'rejected' && !s.reason) ctx.addIssue({ code: 'custom', path: ['reason'], message: 'a rejection needs a reason' });
    if (s.status !== 'rejected' && s.reason) ctx.addIssue({ code: 'custom', path: ['reason'], message: 'reason is only for a rejection' });
  });
export type DecisionStep = z.infer<typeof decisionStepSchema>;

/** One step of the public timeline (seq 1 is the publication). */
export const decisionTimelineEntrySchema = z.object({
  seq: z.number().int().positive(),
  status: decisionStatusSchema,
  at: z.string(),
  note: z.string().nullable(),
});
export type DecisionTimelineEntry = z.infer<typeof decisionTimelineEntrySchema>;

export const decisionSchema = z.object({
  pollId: z.number().int(),
  status: decisionStatusSchema,
  summary: z.string(),
  body: z.string(),
  /** Set when rejected. */
  reason: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
  timeline: z.array(decisionTimelineEntrySchema),
});
export type Decision = z.infer<typeof decisionSchema>;

/**
 * The answer deadline of a finalised poll: ANSWER_DEADLINE_WORKING_DAYS working days after
 * finalisation (weekends and public holidays excluded), at the end of that day in city time.
 */
export const answerDeadlineSchema = z.object({
  /** null while the poll is not finalised. */
  answerDeadline: z.string().nullable(),
  /** No decision published and the deadline has passed. */
  overdue: z.boolean(),
  /** Working days left before the deadline (0 on the last day and after it); null when answered or not finalised. */
  workingDaysLeft: z.number().int().nullable(),
  /** A decision was published after the deadline. */
  answeredLate: z.boolean(),
});
export type AnswerDeadline = z.infer<typeof answerDeadlineSchema>;

/** `GET /api/polls/:id/decision` (public). */
export const decisionViewSchema = answerDeadlineSchema.extend({
  pollId: z.number().int(),
  finalisedAt: z.string().nullable(),
  decision: decisionSchema.nullable(),
});
export type DecisionView = z.infer<typeof decisionViewSchema>;
