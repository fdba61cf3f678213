/**
 * Value lists mirrored from $shared without importing it at runtime (a value import from $shared pulls zod
 * into the browser bundle). The type assertions fail the check if shared/ and these lists drift apart.
 */
import type { User } from '$shared/users.ts';
import type { AgeBand } from '$shared/polls.ts';

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const same = <T extends true>(_: T) => _;

export const GENDERS = ['female', 'male', 'other', 'unspecified'] as const;
same<Same<(typeof GENDERS)[number], NonNullable<User['gender']>>>(true);

export const AGE_BANDS = ['under18', '18-24', '25-34', '35-44', '45-54', '55-64', '65plus'] as const;
same<Same<(typeof AGE_BANDS)[number], AgeBand>>(true);

import type { DecisionStatus } from '$shared/decisions.ts';
/** DECISION_NEXT of shared/decisions.ts: the allowed next statuses. */
export const DECISION_NEXT: Record<DecisionStatus, readonly DecisionStatus[]> = {
  decided: ['in_progress', 'rejected'],
  in_progress: ['implemented', 'rejected'],
  implemented: [],
  rejected: [],
};
