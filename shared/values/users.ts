/** Zod-free half of the users contract (values and types); shared/users.ts holds the schemas. */
export type { User } from '../users.ts';

/** `responder`: staff of one or more Our City organisations (bound by an admin), answering reports. */
export const ROLES = ['resident', 'moderator', 'official', 'admin', 'responder'] as const;
export type Role = (typeof ROLES)[number];

export const GENDERS = ['female', 'male', 'other', 'unspecified'] as const;
export type Gender = (typeof GENDERS)[number];

/** Points awarded once, when a profile is first completed (the web tells the resident). */
export const PROFILE_POINTS = 50;
