import { z } from 'zod';
import { GENDERS, ROLES } from './values/users.ts';

// The users contract's schemas; values and types without zod: shared/values/users.ts (re-exported here).
export * from './values/users.ts';

export const roleSchema = z.enum(ROLES);
export const genderSchema = z.enum(GENDERS);

/** The user as the API returns it (to the user themself and to admins). */
export const userSchema = z.object({
  id: z.number().int().positive(),
  phone: z.string(),
  name: z.string().nullable(),
  district: z.string().nullable(),
  birthYear: z.number().int().nullable(),
  gender: genderSchema.nullable(),
  roles: z.array(roleSchema),
  profileComplete: z.boolean(),
  createdAt: z.string(),
});
export type User = z.infer<typeof userSchema>;
