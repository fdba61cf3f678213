import { z } from 'zod';
import type { OkrugId } from './districts.ts';
import { categoryCodeSchema, districtIdSchema, reportStatusSchema, reportSummarySchema } from './city.ts';

/** Our City's list queries and pages, area alerts and the public board (routes: shared/city.ts). */

const csvOf = <T extends z.ZodTypeAny>(item: T) =>
  z.preprocess((v) => (typeof v === 'string' ? (v === '' ? [] : v.split(',')) : v), z.array(item).max(50));
const paging = {
  page: z.coerce.number().int().min(1).max(10_000).default(1),
  pageSize: z.coerce.number().int().min(1).max(100).default(20),
};
const OKRUG_IDS = ['cao', 'sao', 'svao', 'vao', 'yuvao', 'yuao', 'yuzao', 'zao', 'szao', 'zelao', 'nao', 'tao'] as const satisfies readonly OkrugId[];

/** `GET /reports`: comma-separated lists filter by any of the values. */
export const reportListQuerySchema = z
  .object({
    district: csvOf(districtIdSchema).optional(),
    okrug: csvOf(z.enum(OKRUG_IDS)).optional(),
    category: csvOf(categoryCodeSchema).optional(),
    status: csvOf(reportStatusSchema).optional(),
    organisation: csvOf(z.coerce.number().int().positive()).optional(),
    overdue: z.enum(['true', 'false']).transform((v) => v === 'true').optional(),
    // no control characters: PostgreSQL's text cannot hold a NUL
    q: z.string().trim().max(200).regex(/^[^\p{Cc}]*$/u, 'No control characters').optional(),
    sort: z.enum(['newest', 'oldest', 'deadline', 'supporters']).default('newest'),
    ...paging,
  })
  .strict();
export type ReportListQuery = z.infer<typeof reportListQuerySchema>;
export const queueQuerySchema = z
  .object({ district: csvOf(districtIdSchema).optional(), category: csvOf(categoryCodeSchema).optional(), ...paging })
  .strict();
export const inboxQuerySchema = z.object({ organisation: z.coerce.number().int().positive().optional(), ...paging }).strict();
export const duplicatesQuerySchema = z
  .object({ category: categoryCodeSchema, district: districtIdSchema, address: z.string().trim().min(3).max(300) })
  .strict();

export const reportPageSchema = z.object({
  items: z.array(reportSummarySchema),
  page: z.number().int(),
  pageSize: z.number().int(),
  /** Matching reports, counted up to 1,000 (a larger result shows 1,000: page on until a short page). */
  total: z.number().int(),
});
export type ReportPage = z.infer<typeof reportPageSchema>;

// ---------- area alerts ----------

export const areaAlertsSchema = z
  .object({
    districts: z.array(districtIdSchema).max(50),
    /** Empty = every category. */
    categories: z.array(categoryCodeSchema).max(50),
  })
  .strict();
export type AreaAlerts = z.infer<typeof areaAlertsSchema>;

// ---------- board ----------

export const boardQuerySchema = z
  .object({
    by: z.enum(['organisation', 'district']).default('organisation'),
    /** Period of reports received, inclusive dates YYYY-MM-DD (Moscow). Default: the last 90 days. */
    from: z.string().regex(/^\d{4}-\d{2}-\d{2}$/).optional(),
    to: z.string().regex(/^\d{4}-\d{2}-\d{2}$/).optional(),
    okrug: z.enum(OKRUG_IDS).optional(),
  })
  .strict();
export type BoardQuery = z.infer<typeof boardQuerySchema>;

export const boardRowSchema = z.object({
  /** Organisation id (as a string) or district id. */
  key: z.string(),
  name: z.object({ ru: z.string(), en: z.string() }),
  received: z.number().int(),
  answered: z.number().int(),
  /** answered by the deadline / routed reports whose deadline has passed or that were answered; null when none. */
  answeredOnTimeShare: z.number().nullable(),
  /** Median working days from routing to the first answer; null when none. */
  medianAnswerWorkingDays: z.number().nullable(),
  overdueNow: z.number().int(),
  /** reports disputed at least once / answered reports; null when none. */
  disputedShare: z.number().nullable(),
});
export type BoardRow = z.infer<typeof boardRowSchema>;
export const boardSchema = z.object({ by: z.enum(['organisation', 'district']), from: z.string(), to: z.string(), rows: z.array(boardRowSchema) });
export type Board = z.infer<typeof boardSchema>;
