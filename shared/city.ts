import { z } from 'zod';
import { isDistrictId } from './districts.ts';
import {
  ACTOR_ROLES, ANSWER_OUTCOMES, CLOSE_RESOLUTIONS, DEFAULT_DEADLINE_DAYS, DESCRIPTION_MAX, DESCRIPTION_MIN,
  ORGANISATION_KINDS, REJECT_REASONS, REPORT_STATUSES, TIMELINE_STEPS, type ReportStatus, type TimelineStep,
} from './values/city.ts';

/**
 * "Our City" (Наш город): residents report defects in city objects, a moderator routes each report to the
 * responsible organisation, its staff (role `responder`) answer within N working days, the resident confirms
 * or disputes. The API contract, shared by server and web. Extend, don't rename.
 *
 * Routes (all under /api/city unless noted; "staff" = moderator | official | admin):
 *   GET    /categories                       public      {items: Category[]}
 *   POST   /categories                       admin       Category (201)           body CategoryCreate
 *   PATCH  /categories/:code                 admin       Category                 body CategoryPatch
 *   GET    /organisations                    public      {items: Organisation[]}  (?district=&category=)
 *   POST   /organisations                    admin       Organisation (201)       body OrganisationCreate
 *   PATCH  /organisations/:id                admin       Organisation             body OrganisationPatch
 *   GET    /route-proposal?category=&district=  public   {organisation: Organisation | null}
 *   GET    /responders/:userId               admin       ResponderBinding
 *   PUT    /responders/:userId               admin       ResponderBinding         body {organisationIds} (grants role responder)
 *   GET    /duplicates?category=&district=&address=  public  {items: ReportSummary[]} open reports the form offers to support
 *   GET    /reports                          public      ReportPage               query ReportListQuery (q = Russian full-text search)
 *   GET    /reports/:id                      public      Report (staff also see actor names; `viewer` tells the caller's relation)
 *   POST   /reports                          resident    Report (201)             multipart: REPORT_FIELDS + 0..5 files `photos`
 *                                                        409 `duplicate` {details:{reportId}} when an open one matches; 429 + Retry-After over the daily limit
 *   POST   /reports/:id/support              resident    SupportResult            ("me too"; idempotent)
 *   POST   /reports/:id/route                moderator   Report                   body RouteBody  (submitted → routed; deadline starts)
 *   POST   /reports/:id/reject               moderator   Report                   body RejectBody (submitted → rejected)
 *   POST   /reports/:id/merge                moderator   Report                   body MergeBody  (submitted → merged into an open report)
 *   POST   /reports/:id/answer               responder   Report                   multipart: ANSWER_FIELDS + 0..5 files `photos` (routed → answered | submitted on not_ours)
 *   POST   /reports/:id/confirm              reporter    Report                   (answered → closed, points once)
 *   POST   /reports/:id/dispute              reporter    Report                   body DisputeBody (answered → routed, new deadline)
 *   GET    /queue                            moderator   ReportPage               submitted reports, oldest first, with proposals (query QueueQuery)
 *   GET    /inbox                            responder   ReportPage               routed reports of the caller's organisations, nearest deadline first (admin/official: all)
 *   GET    /my/reports                       signed in   ReportPage               filed or supported by the caller
 *   GET    /my/alerts | PUT /my/alerts       signed in   AreaAlerts               body AreaAlerts (follow districts + categories)
 *   GET    /board                            public      Board                    query BoardQuery (per organisation or district, by period)
 *   GET    /photos/:name                     public      image/jpeg bytes         name = PhotoName (immutable, cached a year)
 * Open311 GeoReport v2 (JSON), under /open311/v2: GET discovery.json, services.json, services/:code.json,
 *   requests.json (service_code, start_date, end_date, status), requests/:id.json; POST requests.json (signed-in resident).
 * Query, page and board shapes: shared/city-lists.ts.
 * Errors: the usual `{error:{code,message,details}}`; 409 `invalid_state` when the report is no longer in the state
 * a step needs (another actor won), 413/415/400 for photos, 503 `unavailable` when the database is down.
 */

// ---------- enums (values and limits: shared/values/city.ts, re-exported here) ----------

export * from './values/city.ts';
export const reportStatusSchema = z.enum(REPORT_STATUSES);
export const answerOutcomeSchema = z.enum(ANSWER_OUTCOMES);
export const rejectReasonSchema = z.enum(REJECT_REASONS);
export const timelineStepSchema = z.enum(TIMELINE_STEPS);
export const organisationKindSchema = z.enum(ORGANISATION_KINDS);

// ---------- catalogue ----------

const localName = z.object({ ru: z.string().trim().min(2).max(200), en: z.string().trim().min(2).max(200) }).strict();
export const categoryCodeSchema = z.string().regex(/^[a-z][a-z0-9_]{1,39}$/, 'a category code like "roof_leak"');
export const districtIdSchema = z.string().refine(isDistrictId, 'unknown district');

export const categorySchema = z.object({
  code: z.string(),
  name: z.object({ ru: z.string(), en: z.string() }),
  orgKind: organisationKindSchema,
  deadlineDays: z.number().int(),
  active: z.boolean(),
});
export type Category = z.infer<typeof categorySchema>;

export const categoryCreateSchema = z
  .object({
    code: categoryCodeSchema,
    name: localName,
    orgKind: organisationKindSchema,
    deadlineDays: z.number().int().min(1).max(60).default(DEFAULT_DEADLINE_DAYS),
    active: z.boolean().default(true),
  })
  .strict();
export type CategoryCreate = z.infer<typeof categoryCreateSchema>;
export const categoryPatchSchema = categoryCreateSchema.omit({ code: true }).partial().strict();
export type CategoryPatch = z.infer<typeof categoryPatchSchema>;

export const organisationSchema = z.object({
  id: z.number().int(),
  slug: z.string(),
  name: z.object({ ru: z.string(), en: z.string() }),
  kind: organisationKindSchema,
  /** Districts served; empty = city-wide. */
  districts: z.array(z.string()),
  /** Category codes handled. */
  categories: z.array(z.string()),
  active: z.boolean(),
});
export type Organisation = z.infer<typeof organisationSchema>;

export const organisationCreateSchema = z
  .object({
    slug: z.string().regex(/^[a-z0-9][a-z0-9-]{1,79}$/, 'a slug like "housing-arbat"'),
    name: localName,
    kind: organisationKindSchema,
    districts: z.array(districtIdSchema).max(200).default([]),
    categories: z.array(categoryCodeSchema).max(100).default([]),
    active: z.boolean().default(true),
  })
  .strict();
export type OrganisationCreate = z.infer<typeof organisationCreateSchema>;
export const organisationPatchSchema = organisationCreateSchema.omit({ slug: true }).partial().strict();
export type OrganisationPatch = z.infer<typeof organisationPatchSchema>;

export const organisationListQuerySchema = z
  .object({ district: districtIdSchema.optional(), category: categoryCodeSchema.optional() })
  .strict();

export const routeProposalQuerySchema = z.object({ category: categoryCodeSchema, district: districtIdSchema }).strict();
export const routeProposalSchema = z.object({ organisation: organisationSchema.nullable() });

export const responderBindingSchema = z.object({ userId: z.number().int(), organisationIds: z.array(z.number().int()) });
export type ResponderBinding = z.infer<typeof responderBindingSchema>;
export const responderBindBodySchema = z
  .object({ organisationIds: z.array(z.number().int().positive()).max(50) })
  .strict();

// ---------- reports ----------

export const reportIdParamsSchema = z.object({ id: z.string().regex(/^[1-9][0-9]{0,11}$/, 'a report id') }).strict();

/** Multipart text fields of `POST /reports` (files go in `photos`). Numbers arrive as strings. */
export const REPORT_FIELDS = ['category', 'district', 'address', 'description', 'lat', 'lng'] as const;
const coord = (min: number, max: number) =>
  z
    .string()
    .trim()
    .regex(/^-?[0-9]{1,3}(\.[0-9]{1,10})?$/, 'a decimal coordinate')
    .transform(Number)
    .pipe(z.number().min(min).max(max));
export const reportCreateSchema = z
  .object({
    category: categoryCodeSchema,
    district: districtIdSchema,
    address: z.string().trim().min(3).max(300),
    description: z.string().trim().min(DESCRIPTION_MIN).max(DESCRIPTION_MAX),
    lat: coord(-90, 90).optional(),
    lng: coord(-180, 180).optional(),
  })
  .strict()
  .refine((r) => (r.lat === undefined) === (r.lng === undefined), { message: 'lat and lng go together', path: ['lng'] });
export type ReportCreate = z.infer<typeof reportCreateSchema>;

export const routeBodySchema = z.object({ organisationId: z.number().int().positive(), note: z.string().trim().max(2000).optional() }).strict();
export type RouteBody = z.infer<typeof routeBodySchema>;
export const rejectBodySchema = z.object({ reason: rejectReasonSchema, comment: z.string().trim().min(3).max(2000) }).strict();
export type RejectBody = z.infer<typeof rejectBodySchema>;
export const mergeBodySchema = z.object({ into: z.number().int().positive(), note: z.string().trim().max(2000).optional() }).strict();
export type MergeBody = z.infer<typeof mergeBodySchema>;
export const disputeBodySchema = z.object({ comment: z.string().trim().min(3).max(2000) }).strict();
export type DisputeBody = z.infer<typeof disputeBodySchema>;

/** Multipart text fields of `POST /reports/:id/answer` (files go in `photos`). */
export const ANSWER_FIELDS = ['text', 'outcome', 'plannedFor'] as const;
export const answerBodySchema = z
  .object({
    text: z.string().trim().min(3).max(DESCRIPTION_MAX),
    outcome: answerOutcomeSchema,
    /** YYYY-MM-DD, required for `planned` only. */
    plannedFor: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'a date YYYY-MM-DD').optional(),
  })
  .strict()
  .superRefine((a, ctx) => {
    if (a.outcome === 'planned' && !a.plannedFor) ctx.addIssue({ code: 'custom', path: ['plannedFor'], message: 'a planned fix needs a date' });
    if (a.outcome !== 'planned' && a.plannedFor) ctx.addIssue({ code: 'custom', path: ['plannedFor'], message: 'plannedFor is only for planned' });
  });
export type AnswerBody = z.infer<typeof answerBodySchema>;

/** A stored photo: `<sha256 of the re-encoded JPEG>.jpg`, its thumbnail `<sha256>.thumb.jpg`. */
export const photoNameSchema = z.string().regex(/^[0-9a-f]{64}(\.thumb)?\.jpg$/, 'a photo name');
export const photoSchema = z.object({
  hash: z.string(),
  url: z.string(),
  thumbUrl: z.string(),
  width: z.number().int(),
  height: z.number().int(),
  bytes: z.number().int(),
});
export type Photo = z.infer<typeof photoSchema>;

export const timelineEntrySchema = z.object({
  seq: z.number().int().positive(),
  step: timelineStepSchema,
  at: z.string(),
  actorRole: z.enum(ACTOR_ROLES),
  /** Staff and the actor themself see it; null for the public and always for a resident actor. */
  actorName: z.string().nullable(),
  organisationId: z.number().int().nullable(),
  note: z.string().nullable(),
  outcome: answerOutcomeSchema.nullable(),
  plannedFor: z.string().nullable(),
  /** The deadline this step set (routed, disputed) or concerned (reminded, escalated). */
  deadline: z.string().nullable(),
  reason: rejectReasonSchema.nullable(),
  mergedInto: z.number().int().nullable(),
  photos: z.array(photoSchema),
});
export type TimelineEntry = z.infer<typeof timelineEntrySchema>;

export const reportSummarySchema = z.object({
  id: z.number().int(),
  category: z.string(),
  district: z.string(),
  okrug: z.string(),
  address: z.string(),
  lat: z.number().nullable(),
  lng: z.number().nullable(),
  /** First 200 characters of the description. */
  excerpt: z.string(),
  status: reportStatusSchema,
  organisationId: z.number().int().nullable(),
  /** The current answer deadline (end of the working day, Moscow time), null unless routed/answered. */
  deadline: z.string().nullable(),
  /** Computed from the clock: routed and past the deadline. */
  overdue: z.boolean(),
  /** Routed only: working days (the city's calendar) after today up to the deadline's day; 0 on that day and once overdue. */
  workingDaysLeft: z.number().int().nullable(),
  supporters: z.number().int(),
  disputes: z.number().int(),
  thumbUrl: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
  /** Staff queue only: the organisation routing proposes. */
  proposedOrganisationId: z.number().int().nullable().optional(),
});
export type ReportSummary = z.infer<typeof reportSummarySchema>;

export const reportSchema = reportSummarySchema.extend({
  description: z.string(),
  photos: z.array(photoSchema),
  outcome: answerOutcomeSchema.nullable(),
  plannedFor: z.string().nullable(),
  resolution: z.enum(CLOSE_RESOLUTIONS).nullable(),
  mergedInto: z.number().int().nullable(),
  rejectReason: rejectReasonSchema.nullable(),
  /** When an answered report closes by itself (answeredAt + VERDICT_DAYS). */
  verdictDueAt: z.string().nullable(),
  timeline: z.array(timelineEntrySchema),
  /** The caller's relation to the report (all false when anonymous). */
  viewer: z.object({ isReporter: z.boolean(), supported: z.boolean(), canAnswer: z.boolean(), canModerate: z.boolean() }),
});
export type Report = z.infer<typeof reportSchema>;

export const supportResultSchema = z.object({ reportId: z.number().int(), supporters: z.number().int(), supported: z.literal(true) });
export type SupportResult = z.infer<typeof supportResultSchema>;

// ---------- live (Socket.IO) ----------

/**
 * `city:report` goes to watchers of one report (`city:watch`); `city:queue` goes to staff queues: moderators
 * get every submitted/changed report, responders the reports of their organisations (`city:queue:watch`).
 */
export type CityReportFrame = { reportId: number; status: ReportStatus; step: TimelineStep; seq: number; at: string; overdue: boolean; deadline: string | null; supporters: number };
export type CityQueueFrame = CityReportFrame & { organisationId: number | null; category: string; district: string };
export const cityWatchPayload = z.object({ reportId: z.number().int().positive() }).strict();
export type CityWatchPayload = z.infer<typeof cityWatchPayload>;
export type CityQueueWatchAck = { moderation: boolean; organisationIds: number[] };
