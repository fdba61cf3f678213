import { z } from 'zod';
import { genderSchema, roleSchema, userSchema } from './users.ts';
import { isDistrictId, type OkrugId } from './districts.ts';

/**
 * The identity API's bodies and responses: phone + one-time code sign-in, the profile, roles.
 * Phones are stored and compared in E.164 (`+79991234567`).
 */

/** Digits of an E.164 number: country code + subscriber number, 8..15 digits, no leading 0. */
const E164 = /^\+[1-9][0-9]{7,14}$/;

/**
 * A phone as people type it → E.164, or null. Russian numbers may be written the local way:
 * "+7 999 123-45-67", "8 (999) 123-45-67", "79991234567", "9991234567" → "+79991234567".
 * Any other country needs the leading "+" and its country code.
 */
export function normalisePhone(input: string): string | null {
  if (typeof input !== 'string' || input.length > 32) return null;
  const s = input.trim();
  if (!/^\+?[0-9\s().-]+$/.test(s)) return null;
  const plus = s.startsWith('+');
  const digits = s.replace(/[^0-9]/g, '');
  let e164: string;
  if (plus) e164 = `+${digits}`;
  else if (digits.length === 11 && (digits[0] === '8' || digits[0] === '7')) e164 = `+7${digits.slice(1)}`;
  else if (digits.length === 10 && digits[0] === '9') e164 = `+7${digits}`;
  else return null;
  if (!E164.test(e164)) return null;
  // +7 is Russia/Kazakhstan: always 10 digits after the country code
  if (e164.startsWith('+7') && e164.length !== 12) return null;
  return e164;
}

export const PHONE_MESSAGE = 'Enter a phone number like +7 999 123-45-67 (other countries: + and the country code)';

export const phoneSchema = z
  .string({ error: PHONE_MESSAGE })
  .max(32, PHONE_MESSAGE)
  .transform((s, ctx) => {
    const p = normalisePhone(s);
    if (!p) {
      ctx.addIssue({ code: 'custom', message: PHONE_MESSAGE });
      return z.NEVER;
    }
    return p;
  });

export const OTP_LENGTH = 6;
export const otpCodeSchema = z.string({ error: 'The code is 6 digits' }).regex(/^[0-9]{6}$/, 'The code is 6 digits');

export const otpRequestBody = z.object({ phone: phoneSchema }).strict();
export type OtpRequestBody = z.infer<typeof otpRequestBody>;

/** 202 reply to a code request: where it went and for how long it is valid — never the code. */
export const otpRequestResponse = z.object({ phone: z.string(), expiresInSeconds: z.number().int(), codeLength: z.number().int() });
export type OtpRequestResponse = z.infer<typeof otpRequestResponse>;

export const verifyBody = z.object({ phone: phoneSchema, code: otpCodeSchema }).strict();
export type VerifyBody = z.infer<typeof verifyBody>;

export const authUserResponse = z.object({ user: userSchema });
export type AuthUserResponse = z.infer<typeof authUserResponse>;

const thisYear = () => new Date().getUTCFullYear();

export const NAME_MAX = 80;
export const profilePatchBody = z
  .object({
    name: z.string().trim().min(1, 'Name cannot be empty').max(NAME_MAX).regex(/^[^\p{C}]+$/u, 'No control characters').nullable(),
    district: z.string().max(64).refine(isDistrictId, 'Unknown district (see GET /api/districts)'),
    birthYear: z
      .number()
      .int()
      .refine((y) => y >= thisYear() - 120 && y <= thisYear(), 'Birth year out of range'),
    gender: genderSchema,
  })
  .partial()
  .strict()
  .refine((b) => Object.keys(b).length > 0, 'Send at least one of name, district, birthYear, gender');
export type ProfilePatchBody = z.infer<typeof profilePatchBody>;

/** GET/PATCH /api/me: the user and the okrug that follows from their district. */
export const meResponse = z.object({ user: userSchema, okrug: z.string().nullable() });
export type MeResponse = { user: z.infer<typeof userSchema>; okrug: OkrugId | null };

export const rolesBody = z.object({ roles: z.array(roleSchema).max(4) }).strict();
export type RolesBody = z.infer<typeof rolesBody>;

export const userLookupQuery = z.object({ phone: phoneSchema }).strict();
export const userIdParams = z.object({ id: z.string().regex(/^[1-9][0-9]{0,14}$/, 'must be a positive integer user id') });
