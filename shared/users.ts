import { z } from 'zod';

/** `responder`: staff of one or more Our City organisations (bound by an admin), answering reports. */
export const ROLES = ['resident', 'moderator', 'official', 'admin', 'responder'] as const;
export const roleSchema = z.enum(ROLES);
export type Role = z.infer<typeof roleSchema>;

export const GENDERS = ['female', 'male', 'other', 'unspecified'] as const;
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
