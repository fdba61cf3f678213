import { z } from 'zod';
import { createRouteRegistry, type RouteRegistry } from './registry.ts';
import { cityCatalog, open311Catalog } from './city.catalog.ts';
import {
  ballotBodySchema,
  ballotReceiptSchema,
  pollCreateSchema,
  pollListQuerySchema,
  pollListSchema,
  pollPatchSchema,
  pollResultsSchema,
  pollRateQuerySchema,
  pollRateSchema,
  pollSchema,
  pollViewSchema,
  pollFinalSchema,
} from '../../shared/polls.ts';
import { decisionCreateSchema, decisionStepSchema, decisionViewSchema } from '../../shared/decisions.ts';
import { markReadSchema, notificationListQuerySchema, notificationListSchema, unreadCountSchema } from '../../shared/notifications.ts';
import { archivePageSchema, archiveQuerySchema } from '../../shared/archive.ts';
import { pollIntegrityReportSchema } from '../../shared/integrity.ts';
import { representativenessSchema } from '../../shared/representativeness.ts';
import {
  authUserResponse,
  meResponse,
  otpRequestBody,
  otpRequestResponse,
  profilePatchBody,
  rolesBody,
  userIdParams,
  userLookupQuery,
  verifyBody,
} from '../../shared/auth.ts';
import { myPointsQuerySchema, myPointsSchema } from '../../shared/points.ts';
import {
  myRedemptionsSchema,
  redeemResultSchema,
  rewardCreateSchema,
  rewardIdParamsSchema,
  rewardListSchema,
  rewardPatchSchema,
  rewardSchema,
} from '../../shared/rewards.ts';

const pollId = z.object({ id: z.string().regex(/^[1-9][0-9]{0,14}$/).describe('poll id') });
const ok = (schema: z.ZodType, description = 'OK') => ({ description, schema });
const localName = z.object({ ru: z.string(), en: z.string() });
/** shared/districts.ts exports plain data (no schema): its shape, for the document. */
const districtsResponse = z.object({
  okrugs: z.array(z.object({ id: z.string(), abbr: localName, name: localName })),
  districts: z.array(z.object({ id: z.string(), okrug: z.string(), kind: z.enum(['district', 'settlement']), name: localName })),
});

/**
 * Every route of the public API under /api, with the zod schemas of shared/ it takes and returns.
 * A route added to an Express router must be added here too: tests/integration/openapi.test.ts walks
 * the router stack and fails on any route this catalog does not describe.
 */
export function apiCatalog(): RouteRegistry {
  return createRouteRegistry().add(
    // ---- identity ----
    { method: 'post', path: '/auth/otp', tag: 'identity', auth: 'public', summary: 'Send a one-time sign-in code to a phone', body: otpRequestBody, responses: { 202: ok(otpRequestResponse, 'Code sent') }, errors: [429] },
    { method: 'post', path: '/auth/verify', tag: 'identity', auth: 'public', summary: 'Sign in with the code (sets the session cookie)', body: verifyBody, responses: { 200: ok(authUserResponse) }, errors: [401, 429] },
    { method: 'post', path: '/auth/logout', tag: 'identity', auth: 'public', summary: 'Sign out (clears the session)', responses: { 204: { description: 'Signed out' } } },
    { method: 'get', path: '/me', tag: 'identity', auth: 'user', summary: 'You and your okrug', responses: { 200: ok(meResponse) } },
    { method: 'patch', path: '/me', tag: 'identity', auth: 'user', summary: 'Update your profile (name, district, birth year, gender)', body: profilePatchBody, responses: { 200: ok(meResponse) } },
    { method: 'get', path: '/districts', tag: 'identity', auth: 'public', summary: "Moscow's okrugs and districts", responses: { 200: ok(districtsResponse) } },
    { method: 'get', path: '/users', tag: 'admin', auth: ['admin'], summary: 'Look a user up by phone', query: userLookupQuery, responses: { 200: ok(authUserResponse) } },
    { method: 'get', path: '/users/:id', tag: 'admin', auth: ['admin'], summary: 'One user', params: userIdParams, responses: { 200: ok(authUserResponse) } },
    { method: 'put', path: '/users/:id/roles', tag: 'admin', auth: ['admin'], summary: "Set a user's roles", params: userIdParams, body: rolesBody, responses: { 200: ok(authUserResponse) } },
    // ---- polls and ballots ----
    { method: 'get', path: '/polls', tag: 'polls', auth: 'public', summary: 'Poll feed (active, upcoming, closed; drafts for moderators)', query: pollListQuerySchema, responses: { 200: ok(pollListSchema) } },
    { method: 'post', path: '/polls', tag: 'polls', auth: ['moderator', 'admin'], summary: 'Create a draft poll', body: pollCreateSchema, responses: { 201: ok(pollSchema, 'Created') } },
    { method: 'get', path: '/polls/:id', tag: 'polls', auth: 'public', summary: 'A poll with your vote status and (when visible) its results', params: pollId, responses: { 200: ok(pollViewSchema) } },
    { method: 'patch', path: '/polls/:id', tag: 'polls', auth: ['moderator', 'admin'], summary: 'Edit a draft', params: pollId, body: pollPatchSchema, responses: { 200: ok(pollSchema) }, errors: [409] },
    { method: 'delete', path: '/polls/:id', tag: 'polls', auth: ['moderator', 'admin'], summary: 'Delete a draft (never a published poll)', params: pollId, responses: { 204: { description: 'Deleted' } }, errors: [409] },
    { method: 'post', path: '/polls/:id/publish', tag: 'polls', auth: ['moderator', 'admin'], summary: 'Publish a draft (schedules open and close)', params: pollId, responses: { 200: ok(pollSchema) }, errors: [409] },
    { method: 'post', path: '/polls/:id/close', tag: 'polls', auth: ['moderator', 'admin'], summary: 'Close a poll early', params: pollId, responses: { 200: ok(pollSchema) }, errors: [409] },
    { method: 'post', path: '/polls/:id/ballots', tag: 'polls', auth: 'user', summary: 'Cast your ballot (once per poll)', params: pollId, body: ballotBodySchema, responses: { 201: ok(ballotReceiptSchema, 'Accepted') }, errors: [409] },
    { method: 'get', path: '/polls/:id/results', tag: 'polls', auth: 'public', summary: 'Results (after you voted or once the poll closed)', params: pollId, responses: { 200: ok(pollResultsSchema) } },
    { method: 'get', path: '/polls/:id/rate', tag: 'polls', auth: ['moderator', 'official', 'admin'], summary: 'Ballots per minute over the last minutes (from the ballot ledger)', params: pollId, query: pollRateQuerySchema, responses: { 200: ok(pollRateSchema) } },
    // ---- decisions, archive, open data ----
    { method: 'get', path: '/polls/:id/decision', tag: 'decisions', auth: 'public', summary: "City hall's decision, its timeline and the answer deadline (overdue flag)", params: pollId, responses: { 200: ok(decisionViewSchema) } },
    { method: 'post', path: '/polls/:id/decision', tag: 'decisions', auth: ['official', 'admin'], summary: 'Publish the decision on a finalised poll (notifies every voter)', params: pollId, body: decisionCreateSchema, responses: { 201: ok(decisionViewSchema, 'Published') }, errors: [409] },
    { method: 'post', path: '/polls/:id/decision/status', tag: 'decisions', auth: ['official', 'admin'], summary: 'Move the decision: decided → in_progress → implemented, or rejected with a reason (notifies every voter)', params: pollId, body: decisionStepSchema, responses: { 200: ok(decisionViewSchema) }, errors: [409] },
    { method: 'get', path: '/archive', tag: 'archive', auth: 'public', summary: 'Closed and finalised polls with results, breakdowns, decisions and deadlines; searchable, paged', query: archiveQuerySchema, responses: { 200: ok(archivePageSchema) } },
    {
      method: 'get', path: '/polls/:id/results.json', tag: 'open data', auth: 'public', summary: 'Open data: the finalised results snapshot (no personal data)', params: pollId,
      responses: { 200: ok(pollFinalSchema), 304: { description: 'Not modified (ETag)' } }, errors: [409],
    },
    {
      method: 'get', path: '/polls/:id/results.csv', tag: 'open data', auth: 'public', summary: 'Open data: the finalised snapshot as CSV (ballots, one row per option, breakdown rows)', params: pollId,
      responses: { 200: { description: 'RFC 4180 CSV with a header row', contentType: 'text/csv' }, 304: { description: 'Not modified (ETag)' } }, errors: [409],
    },
    // ---- the open count: integrity, the published ballot ledger, representativeness ----
    {
      method: 'get', path: '/polls/:id/integrity', tag: 'open count', auth: 'public',
      summary: "The poll's own counters: ballots per minute, refusals (duplicate, late, early, invalid), tallies == ledger == voters marked, points awarded, the ledger's hash (staff while open, everyone once closed)",
      params: pollId, responses: { 200: ok(pollIntegrityReportSchema) }, errors: [403],
    },
    {
      method: 'get', path: '/polls/:id/representativeness', tag: 'open count', auth: 'public',
      summary: 'Turnout per okrug, age band and gender against the eligible base, and the result raked to the population (small groups merged; per-question figures withheld, with the reason, while the complete- or incomplete-profile ballots are a small group; staff while open, everyone once closed)',
      params: pollId, responses: { 200: ok(representativenessSchema) }, errors: [403],
    },
    {
      method: 'get', path: '/polls/:id/ledger.jsonl', tag: 'open count', auth: 'public',
      summary: 'The published ballot ledger: one JSON row per ballot {tag: SHA-256(receipt), answers}, in random order (immutable; its SHA-256 is in results.json)',
      params: pollId, responses: { 200: { description: 'JSON Lines', contentType: 'application/jsonl' }, 304: { description: 'Not modified (ETag = the SHA-256)' } }, errors: [403, 409],
    },
    {
      method: 'get', path: '/polls/:id/ledger.csv', tag: 'open count', auth: 'public',
      summary: 'The published ballot ledger as CSV: tag, then one column per question (option ids joined by ";"), in random order',
      params: pollId, responses: { 200: { description: 'RFC 4180 CSV with a header row', contentType: 'text/csv' }, 304: { description: 'Not modified (ETag = the SHA-256)' } }, errors: [403, 409],
    },
    // ---- notifications ----
    { method: 'get', path: '/me/notifications', tag: 'notifications', auth: 'user', summary: 'Your inbox, newest first', query: notificationListQuerySchema, responses: { 200: ok(notificationListSchema) } },
    { method: 'get', path: '/me/notifications/unread', tag: 'notifications', auth: 'user', summary: 'Your unread count', responses: { 200: ok(unreadCountSchema) } },
    { method: 'post', path: '/me/notifications/read', tag: 'notifications', auth: 'user', summary: 'Mark notifications read (some ids, or all)', body: markReadSchema, responses: { 200: ok(unreadCountSchema) } },
    // ---- points and rewards ----
    { method: 'get', path: '/me/points', tag: 'points', auth: 'user', summary: 'Your points balance, level and ledger', query: myPointsQuerySchema, responses: { 200: ok(myPointsSchema) } },
    { method: 'get', path: '/rewards', tag: 'rewards', auth: 'public', summary: 'The rewards shop', responses: { 200: ok(rewardListSchema) } },
    { method: 'get', path: '/rewards/:id', tag: 'rewards', auth: 'public', summary: 'One reward', params: rewardIdParamsSchema, responses: { 200: ok(z.object({ reward: rewardSchema })) } },
    { method: 'post', path: '/rewards', tag: 'rewards', auth: ['admin'], summary: 'Add a reward', body: rewardCreateSchema, responses: { 201: ok(z.object({ reward: rewardSchema }), 'Created') } },
    { method: 'patch', path: '/rewards/:id', tag: 'rewards', auth: ['admin'], summary: 'Change a reward', params: rewardIdParamsSchema, body: rewardPatchSchema, responses: { 200: ok(z.object({ reward: rewardSchema })) } },
    { method: 'post', path: '/rewards/:id/redeem', tag: 'rewards', auth: 'user', summary: 'Spend points on a reward', params: rewardIdParamsSchema, responses: { 201: ok(redeemResultSchema, 'Redeemed') }, errors: [409] },
    { method: 'get', path: '/me/redemptions', tag: 'rewards', auth: 'user', summary: 'Your redemptions', responses: { 200: ok(myRedemptionsSchema) } },
    // ---- the document itself ----
    { method: 'get', path: '/openapi.json', tag: 'meta', auth: 'public', summary: 'This OpenAPI 3.1 document', responses: { 200: { description: 'OpenAPI document (JSON)' } } },
    {
      method: 'get',
      path: '/docs',
      tag: 'meta',
      auth: 'public',
      summary: 'This document, readable: Swagger UI for a browser (Accept: text/html), the JSON otherwise',
      responses: { 200: { description: 'HTML page (Swagger UI) or the OpenAPI document (JSON)' } },
    },
    // ---- Our City (server/openapi/city.catalog.ts) ----
    ...cityCatalog(),
    ...open311Catalog(),
  );
}
