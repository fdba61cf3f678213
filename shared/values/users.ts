/** Zod-free half of the users contract (values and types); shared/users.ts holds the schemas. */
export type { User } from '../users.ts';

export const ROLES = ['resident', 'moderator', 'official', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export const GENDERS = ['female', 'male', 'other', 'unspecified'] as const;
export type Gender = (typeof GENDERS)[number];

/** Points awarded once, when a profile is first completed (the web tells the resident). */
export const PROFILE_POINTS = 50;
