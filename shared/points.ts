import { z } from 'zod';

/**
 * Participation points. Every accepted ballot earns the poll's points, a completed profile
 * earns points once. Status comes from the points EARNED over a lifetime (spending in the rewards shop
 * never takes a status away); the balance is what can be spent.
 */
export const LEVELS = [
  { id: 'newcomer', min: 0 },
  { id: 'participant', min: 100 },
  { id: 'activist', min: 500 },
  /** «Активный гражданин» — the status the city's programme gives at 1,000 points. */
  { id: 'active_citizen', min: 1000 },
] as const;
export type Level = (typeof LEVELS)[number]['id'];
export const ACTIVE_CITIZEN_AT = 1000;

/** The level of a lifetime total, and the total at which the next one starts (null at the top). */
export function levelOf(earned: number): { level: Level; nextLevelAt: number | null } {
  let i = 0;
  for (let k = 0; k < LEVELS.length; k++) if (earned >= LEVELS[k].min) i = k;
  return { level: LEVELS[i].id, nextLevelAt: i + 1 < LEVELS.length ? LEVELS[i + 1].min : null };
}

/** Why points moved: an award (vote, profile), a redemption in the shop, or its refund. */
/** `report`: the reporter confirmed the answer to their Our City report (ref = report id). */
export const POINTS_REASONS = ['vote', 'profile', 'redeem', 'refund', 'report'] as const;
export type PointsReason = (typeof POINTS_REASONS)[number];

export const pointsLedgerEntrySchema = z.object({
  at: z.string(),
  delta: z.number().int(),
  reason: z.enum(POINTS_REASONS),
  /** poll id for a vote, 'profile', the redemption id for redeem/refund */
  ref: z.string(),
  /** balance right after this entry */
  balance: z.number().int(),
});
export type PointsLedgerEntry = z.infer<typeof pointsLedgerEntrySchema>;

/** `GET /api/me/points` (newest ledger entries first; the ledger keeps the last LEDGER_CAP). */
export const myPointsSchema = z.object({
  balance: z.number().int(),
  earned: z.number().int(),
  level: z.enum(LEVELS.map((l) => l.id) as [Level, ...Level[]]),
  activeCitizen: z.boolean(),
  nextLevelAt: z.number().int().nullable(),
  ledger: z.array(pointsLedgerEntrySchema),
});
export type MyPoints = z.infer<typeof myPointsSchema>;
export const LEDGER_CAP = 500;

export const myPointsQuerySchema = z.object({ limit: z.coerce.number().int().min(1).max(LEDGER_CAP).default(50) }).strict();
