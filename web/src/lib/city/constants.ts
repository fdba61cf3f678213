/**
 * Our City value lists mirrored from shared/city.ts without a runtime import of it (that would ship zod to the
 * browser). The type assertions fail the check when shared/ and these lists drift apart.
 */
import type * as C from '$shared/city.ts';

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const same = <T extends true>(_: T) => _;

export const REPORT_STATUSES = ['submitted', 'routed', 'answered', 'closed', 'rejected', 'merged'] as const;
same<Same<(typeof REPORT_STATUSES)[number], C.ReportStatus>>(true);

export const ANSWER_OUTCOMES = ['fixed', 'planned', 'not_ours'] as const;
same<Same<(typeof ANSWER_OUTCOMES)[number], C.AnswerOutcome>>(true);

export const REJECT_REASONS = ['insufficient_details', 'not_city_property', 'not_a_defect', 'abusive_language', 'photo_mismatch', 'already_resolved', 'other'] as const;
same<Same<(typeof REJECT_REASONS)[number], C.RejectReason>>(true);

/** The limits the form checks before uploading (the server enforces them whatever the browser does). */
export const MAX_PHOTOS = 5 satisfies typeof C.MAX_PHOTOS;
export const MAX_PHOTO_BYTES = (10 * 1024 * 1024) satisfies typeof C.MAX_PHOTO_BYTES;
export const PHOTO_TYPES = ['image/jpeg', 'image/png', 'image/webp'] as const;
same<Same<(typeof PHOTO_TYPES)[number], (typeof C.PHOTO_TYPES)[number]>>(true);
export const DESCRIPTION_MIN = 10 satisfies typeof C.DESCRIPTION_MIN;
export const DESCRIPTION_MAX = 2000 satisfies typeof C.DESCRIPTION_MAX;
export const CONFIRM_POINTS = 20 satisfies typeof C.CONFIRM_POINTS;

export const ORGANISATION_KINDS = ['council', 'housing', 'roads', 'lighting', 'parks', 'transport', 'capital_repair'] as const;
same<Same<(typeof ORGANISATION_KINDS)[number], C.OrganisationKind>>(true);
