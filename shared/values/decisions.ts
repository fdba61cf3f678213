/** Zod-free half of the decisions contract (values and types); shared/decisions.ts holds the schemas. */
export type { AnswerDeadline, Decision, DecisionCreate, DecisionStep, DecisionTimelineEntry, DecisionView } from '../decisions.ts';

/** decided → in_progress → implemented; decided | in_progress → rejected (with a reason). */
export const DECISION_STATUSES = ['decided', 'in_progress', 'implemented', 'rejected'] as const;
export type DecisionStatus = (typeof DECISION_STATUSES)[number];

/** The allowed next statuses of each status (terminal: implemented, rejected). */
export const DECISION_NEXT: Record<DecisionStatus, readonly DecisionStatus[]> = {
  decided: ['in_progress', 'rejected'],
  in_progress: ['implemented', 'rejected'],
  implemented: [],
  rejected: [],
};
