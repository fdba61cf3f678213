/** Zod-free half of the Our City contract (values, limits and their types); shared/city.ts holds the schemas. */

// ---------- enums ----------

export const REPORT_STATUSES = ['submitted', 'routed', 'answered', 'closed', 'rejected', 'merged'] as const;
export type ReportStatus = (typeof REPORT_STATUSES)[number];
/** Statuses in which a report is "open" (duplicates are searched among these, supporters may join). */
export const OPEN_STATUSES: readonly ReportStatus[] = ['submitted', 'routed', 'answered'];

export const ANSWER_OUTCOMES = ['fixed', 'planned', 'not_ours'] as const;
export type AnswerOutcome = (typeof ANSWER_OUTCOMES)[number];

export const REJECT_REASONS = [
  'insufficient_details',
  'not_city_property',
  'not_a_defect',
  'abusive_language',
  'photo_mismatch',
  'already_resolved',
  'other',
] as const;
export type RejectReason = (typeof REJECT_REASONS)[number];

/** How a closed report closed: the reporter confirmed, or no verdict within VERDICT_DAYS. */
export const CLOSE_RESOLUTIONS = ['confirmed', 'auto'] as const;
export type CloseResolution = (typeof CLOSE_RESOLUTIONS)[number];

/** Timeline steps. `reminded` and `escalated` are the deadline jobs' marks (actor role `system`). */
export const TIMELINE_STEPS = ['submitted', 'routed', 'rejected', 'merged', 'answered', 'confirmed', 'disputed', 'closed', 'reminded', 'escalated'] as const;
export type TimelineStep = (typeof TIMELINE_STEPS)[number];

export const ACTOR_ROLES = ['resident', 'moderator', 'responder', 'official', 'admin', 'system'] as const;
export type ActorRole = (typeof ACTOR_ROLES)[number];

export const ORGANISATION_KINDS = ['council', 'housing', 'roads', 'lighting', 'parks', 'transport', 'capital_repair'] as const;
export type OrganisationKind = (typeof ORGANISATION_KINDS)[number];

// ---------- limits ----------

export const DEFAULT_DEADLINE_DAYS = 8;
/** Calendar days the reporter has to confirm or dispute an answer before the report closes by itself. */
export const VERDICT_DAYS = 5;
/** Working days before the deadline at which the organisation is reminded. */
export const REMINDER_WORKING_DAYS = 2;
export const MAX_PHOTOS = 5;
export const MAX_PHOTO_BYTES = 10 * 1024 * 1024;
export const PHOTO_TYPES = ['image/jpeg', 'image/png', 'image/webp'] as const;
export const DESCRIPTION_MIN = 10;
export const DESCRIPTION_MAX = 2000;
/** Points the reporter earns when they confirm the answer. */
export const CONFIRM_POINTS = 20;
