import { z } from 'zod';

/** Rewards shop: a catalog managed by admins, paid for with participation points. */
export const rewardCreateSchema = z
  .object({
    name: z.string().trim().min(2).max(200),
    description: z.string().trim().max(2000).default(''),
    price: z.number().int().min(1).max(1_000_000),
    /** units left to sell */
    stock: z.number().int().min(0).max(10_000_000),
    active: z.boolean().default(true),
  })
  .strict();
export type RewardCreate = z.input<typeof rewardCreateSchema>;

export const rewardPatchSchema = z
  .object({
    name: rewardCreateSchema.shape.name,
    description: z.string().trim().max(2000),
    price: rewardCreateSchema.shape.price,
    stock: rewardCreateSchema.shape.stock,
    active: z.boolean(),
  })
  .partial()
  .strict()
  .refine((p) => Object.keys(p).length > 0, 'nothing to change');
export type RewardPatch = z.input<typeof rewardPatchSchema>;

export const rewardSchema = z.object({
  id: z.number().int().positive(),
  name: z.string(),
  description: z.string(),
  price: z.number().int(),
  stock: z.number().int(),
  sold: z.number().int(),
  active: z.boolean(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type Reward = z.infer<typeof rewardSchema>;
export const rewardListSchema = z.object({ rewards: z.array(rewardSchema) });

export const REDEMPTION_STATUSES = ['pending', 'done', 'refunded'] as const;
export const redemptionSchema = z.object({
  id: z.string(),
  rewardId: z.number().int(),
  rewardName: z.string(),
  price: z.number().int(),
  status: z.enum(REDEMPTION_STATUSES),
  /** the code the resident shows to collect the reward (present once done) */
  code: z.string().nullable(),
  createdAt: z.string(),
});
export type Redemption = z.infer<typeof redemptionSchema>;
/** `POST /api/rewards/:id/redeem` → 201 */
export const redeemResultSchema = z.object({ redemption: redemptionSchema, balance: z.number().int() });
export const myRedemptionsSchema = z.object({ redemptions: z.array(redemptionSchema) });

/** A reward id in a path: decimal digits only, as for poll and user ids (no `0x1`, `1e0` or ` 1`). */
export const rewardIdParamsSchema = z.object({ id: z.string().regex(/^[1-9][0-9]{0,14}$/, 'must be a positive integer reward id') }).strict();
