import { z } from 'zod';
import { ledgerExportSchema } from './ledger.ts';
import { representativenessSchema } from './representativeness.ts';
import { MAX_OPTIONS, MAX_QUESTIONS, MAX_SHARDS, MIN_OPTIONS, POLL_LIST_FILTERS, POLL_STATUSES, QUESTION_KINDS } from './values/polls.ts';

// The polls contract's schemas. Its constants, pure rules (ballotIssues, publishIssues, ageBandOf) and
// types are importable without zod from shared/values/polls.ts, and re-exported here for the server.
// Other domains (live results, workers, decisions, web) depend on `PollStatus`, `PollResults` and
// `pollResultsSchema`: extend, don't rename.
export * from './values/polls.ts';

export const pollStatusSchema = z.enum(POLL_STATUSES);

export const pollResultsSchema = z.object({
  pollId: z.number().int(),
  /** Tally version (sum over shards); grows with every accepted ballot. */
  version: z.number().int(),
  ballots: z.number().int(),
  questions: z.array(
    z.object({
      id: z.string(),
      /**
       * Ballots that answered this question: the base of its percentages (a multi-choice option's share
       * is of the people who answered, not of all choices made). Absent in snapshots finalised before it was kept.
       */
      respondents: z.number().int().optional(),
      options: z.array(z.object({ id: z.string(), count: z.number().int() })),
    }),
  ),
  /** Ballots per group; groups under the anonymity threshold are merged into "other". */
  breakdown: z.object({
    district: z.array(z.object({ key: z.string(), ballots: z.number().int() })),
    ageBand: z.array(z.object({ key: z.string(), ballots: z.number().int() })),
    /** The anonymity threshold the groups were merged at (absent in older snapshots). */
    minGroup: z.number().int().optional(),
  }),
});
export type PollResults = z.infer<typeof pollResultsSchema>;

// ---------------------------------------------------------------------------------------------------
// Poll definition. Question and option ids are short strings chosen by the moderator
// ("q1", "o1"), stable across draft edits; the ballot refers to them.

/** Short id: a letter or digit first, then letters, digits, '_' or '-' (never ':' — tally fields use it). */
export const shortIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,15}$/, 'must be 1–16 letters, digits, _ or -, starting with a letter or digit');

/** District slug (the identity domain owns the list of districts). */
export const districtSlugSchema = z.string().regex(/^[a-z0-9][a-z0-9-]{0,47}$/, 'must be a district slug like "arbat"');

export const pollOptionSchema = z.object({ id: shortIdSchema, label: z.string().trim().min(1).max(300) }).strict();
export type PollOption = z.infer<typeof pollOptionSchema>;

export const pollQuestionSchema = z
  .object({
    id: shortIdSchema,
    text: z.string().trim().min(1).max(1000),
    kind: z.enum(QUESTION_KINDS),
    /** Cap on choices: 1 for `single`; 1..options.length for `multi` (default: all options). */
    maxChoices: z.number().int().min(1).max(MAX_OPTIONS).optional(),
    /** An optional question may be left out of a ballot (or answered with []). */
    required: z.boolean().default(true),
    options: z.array(pollOptionSchema).min(MIN_OPTIONS, `at least ${MIN_OPTIONS} options`).max(MAX_OPTIONS, `at most ${MAX_OPTIONS} options`),
  })
  .strict()
  .superRefine((q, ctx) => {
    const seen = new Set<string>();
    q.options.forEach((o, i) => {
      if (seen.has(o.id)) ctx.addIssue({ code: 'custom', path: ['options', i, 'id'], message: `duplicate option id "${o.id}"` });
      seen.add(o.id);
    });
    if (q.kind === 'single' && q.maxChoices !== undefined && q.maxChoices !== 1)
      ctx.addIssue({ code: 'custom', path: ['maxChoices'], message: 'a single-choice question has maxChoices 1' });
    if (q.maxChoices !== undefined && q.maxChoices > q.options.length)
      ctx.addIssue({ code: 'custom', path: ['maxChoices'], message: `maxChoices cannot exceed the number of options (${q.options.length})` });
  })
  .transform((q) => ({ ...q, maxChoices: q.kind === 'single' ? 1 : (q.maxChoices ?? q.options.length) }));
export type PollQuestion = z.output<typeof pollQuestionSchema>;
export type PollQuestionInput = z.input<typeof pollQuestionSchema>;

/** Who may vote. Empty districts and no ages = city-wide (anyone signed in). */
export const audienceSchema = z
  .object({
    districts: z.array(districtSlugSchema).max(200).default([]),
    minAge: z.number().int().min(0).max(120).nullable().default(null),
    maxAge: z.number().int().min(0).max(120).nullable().default(null),
  })
  .strict()
  .refine((a) => a.minAge === null || a.maxAge === null || a.minAge <= a.maxAge, { path: ['maxAge'], message: 'maxAge must be ≥ minAge' })
  .transform((a) => ({ ...a, districts: Array.from(new Set(a.districts)) }));
export type Audience = z.output<typeof audienceSchema>;

const isoDate = z.iso.datetime({ offset: true, message: 'must be an ISO 8601 date-time, e.g. 2026-05-01T09:00:00Z' });

const pollFields = {
  title: z.string().trim().min(3).max(200),
  description: z.string().trim().max(5000).default(''),
  questions: z.array(pollQuestionSchema).min(1, 'at least one question').max(MAX_QUESTIONS),
  audience: audienceSchema.default({ districts: [], minAge: null, maxAge: null }),
  /** May be left empty in a draft; required to publish. */
  opensAt: isoDate.nullable().default(null),
  closesAt: isoDate.nullable().default(null),
  /** Participation points awarded per ballot. */
  points: z.number().int().min(0).max(10_000).default(0),
  /** S: shards of the poll's voter bitmap/tallies/ledger (by userId mod S). Fixed at publish. */
  shards: z.number().int().min(1).max(MAX_SHARDS).default(1),
  /** Closed results visible to everyone (true) or only to the poll's audience and voters. */
  publicResults: z.boolean().default(true),
  /** Projector view: anyone, signed in or not, may watch the live results while the poll is active. */
  publicLive: z.boolean().default(false),
  /**
   * Publish the anonymised ballot ledger at finalisation (receipt tags + answers). Off for a sensitive
   * poll: with it a voter can prove how they voted (coercion, vote buying).
   */
  publicLedger: z.boolean().default(true),
};

function checkDefinition(d: { questions: { id: string }[]; opensAt: string | null; closesAt: string | null }, ctx: z.RefinementCtx) {
  const seen = new Set<string>();
  d.questions.forEach((q, i) => {
    if (seen.has(q.id)) ctx.addIssue({ code: 'custom', path: ['questions', i, 'id'], message: `duplicate question id "${q.id}"` });
    seen.add(q.id);
  });
  if (d.opensAt && d.closesAt && Date.parse(d.closesAt) <= Date.parse(d.opensAt))
    ctx.addIssue({ code: 'custom', path: ['closesAt'], message: 'closesAt must be after opensAt' });
}

/** `POST /api/polls` body: a draft. */
export const pollCreateSchema = z.object(pollFields).strict().superRefine(checkDefinition);
export type PollCreate = z.input<typeof pollCreateSchema>;
/** The stored definition (what a draft holds; fully checked again at publish). */
export type PollDefinition = z.output<typeof pollCreateSchema>;

/** `PATCH /api/polls/:id` body: any subset of the draft's fields (the merged result is re-validated). */
export const pollPatchSchema = z
  .object({
    title: pollFields.title,
    description: z.string().trim().max(5000),
    questions: pollFields.questions,
    audience: audienceSchema,
    opensAt: isoDate.nullable(),
    closesAt: isoDate.nullable(),
    points: pollFields.points.unwrap(),
    shards: pollFields.shards.unwrap(),
    publicResults: z.boolean(),
    publicLive: z.boolean(),
    publicLedger: z.boolean(),
  })
  .partial()
  .strict()
  .refine((p) => Object.keys(p).length > 0, 'nothing to change');
export type PollPatch = z.input<typeof pollPatchSchema>;

/** A poll as the API returns it: the definition plus id, effective status and timestamps. */
export const pollSchema = z.object({
  id: z.number().int().positive(),
  title: z.string(),
  description: z.string(),
  questions: z.array(
    z.object({
      id: z.string(),
      text: z.string(),
      kind: z.enum(QUESTION_KINDS),
      maxChoices: z.number().int(),
      required: z.boolean(),
      options: z.array(z.object({ id: z.string(), label: z.string() })),
    }),
  ),
  audience: z.object({ districts: z.array(z.string()), minAge: z.number().int().nullable(), maxAge: z.number().int().nullable() }),
  opensAt: z.string().nullable(),
  closesAt: z.string().nullable(),
  points: z.number().int(),
  shards: z.number().int(),
  publicResults: z.boolean(),
  publicLive: z.boolean(),
  /** Absent on polls stored before the option existed: read as true. */
  publicLedger: z.boolean().default(true),
  /** Effective status: from the stored state and the clock (a published poll past closesAt is `closed`). */
  status: pollStatusSchema,
  createdAt: z.string(),
  updatedAt: z.string(),
  createdBy: z.number().int(),
  publishedAt: z.string().nullable(),
  closedAt: z.string().nullable(),
  finalisedAt: z.string().nullable(),
});
export type Poll = z.infer<typeof pollSchema>;

/** `GET /api/polls/:id` */
export const pollViewSchema = z.object({
  poll: pollSchema,
  /** null when anonymous */
  voted: z.boolean().nullable(),
  /** null when anonymous */
  eligible: z.boolean().nullable(),
  /** Present when the viewer may see results (server/polls/poll.access.ts decides). */
  results: pollResultsSchema.nullable(),
  /** Set when the results would be visible but fewer than `minGroup` ballots are in (non-staff only). */
  withheld: z.object({ minGroup: z.number().int() }).nullable(),
  /** Staff only (null for anyone else): registered residents who may vote in it, the base of its turnout. */
  eligibleResidents: z.number().int().nullable(),
});
export type PollView = z.infer<typeof pollViewSchema>;

/** `GET /api/polls/:id/rate?minutes=` (staff): ballots per minute, read from the ballot ledger. */
export const pollRateQuerySchema = z.object({ minutes: z.coerce.number().int().min(1).max(120).default(15) }).strict();
export const pollRateSchema = z.object({
  pollId: z.number().int(),
  /** Ballots per minute, oldest first; the last bucket is the current minute. */
  perMinute: z.array(z.number().int()),
  /** When the series ends (the server's clock, ms). */
  at: z.number().int(),
  /** False when more ballots arrived than one read takes: the oldest buckets are undercounted. */
  complete: z.boolean(),
});
export type PollRate = z.infer<typeof pollRateSchema>;

/** `GET /api/polls?status=…` (staff may also ask for `draft`). */
export const pollListQuerySchema = z
  .object({
    status: z.enum(POLL_LIST_FILTERS).default('active'),
    limit: z.coerce.number().int().min(1).max(100).default(50),
  })
  .strict();
export type PollListQuery = z.infer<typeof pollListQuerySchema>;
export const pollListItemSchema = pollSchema.extend({ voted: z.boolean().nullable() });
export type PollListItem = z.infer<typeof pollListItemSchema>;
export const pollListSchema = z.object({ polls: z.array(pollListItemSchema) });

// ---------------------------------------------------------------------------------------------------
// Ballots

/** `POST /api/polls/:id/ballots` body: option ids chosen per question id. */
export const ballotBodySchema = z
  .object({
    answers: z.record(shortIdSchema, z.array(shortIdSchema).max(MAX_OPTIONS, `at most ${MAX_OPTIONS} choices`)),
  })
  .strict();
export type BallotBody = z.infer<typeof ballotBodySchema>;

/** 201 reply (and `details` of a 409 already_voted): the receipt is the same for every retry. */
export const ballotReceiptSchema = z.object({ pollId: z.number().int(), receipt: z.string() });
export type BallotReceipt = z.infer<typeof ballotReceiptSchema>;

/** The immutable snapshot written once at finalisation (the poll service's `markFinalised`). */
export const pollFinalSchema = z.object({
  pollId: z.number().int(),
  finalisedAt: z.string(),
  results: pollResultsSchema,
  integrity: z
    .object({ votersMarked: z.number().int(), ledgerLength: z.number().int(), ballots: z.number().int(), ok: z.boolean() })
    .optional(),
  /** The published ballot ledger (hashes, rows); absent when the poll's publicLedger is off. */
  ledger: ledgerExportSchema.optional(),
  /** Turnout against the eligible base and the raked (weighted) result, frozen at finalisation. */
  representativeness: representativenessSchema.optional(),
});
export type PollFinal = z.infer<typeof pollFinalSchema>;
