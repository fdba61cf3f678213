import { z } from 'zod';
import type { RouteDoc } from './registry.ts';
import {
  categoryCreateSchema, categoryPatchSchema, categorySchema, disputeBodySchema, mergeBodySchema, organisationCreateSchema,
  organisationListQuerySchema, organisationPatchSchema, organisationSchema, rejectBodySchema, reportIdParamsSchema, reportSchema,
  reportSummarySchema, responderBindBodySchema, responderBindingSchema, routeBodySchema, routeProposalQuerySchema, routeProposalSchema,
  supportResultSchema, answerOutcomeSchema, MAX_PHOTOS,
} from '../../shared/city.ts';
import {
  areaAlertsSchema, boardQuerySchema, boardSchema, duplicatesQuerySchema, inboxQuerySchema, queueQuerySchema, reportListQuerySchema,
  reportPageSchema,
} from '../../shared/city-lists.ts';
import { open311CreateBody, open311CreatedSchema, open311RequestSchema, open311RequestsQuery, open311ServiceSchema } from '../../shared/open311.ts';

const ok = (schema: z.ZodType, description = 'OK') => ({ description, schema });
const reportId = reportIdParamsSchema;
const orgId = z.object({ id: z.string().regex(/^[1-9][0-9]{0,14}$/).describe('organisation id') });
const userId = z.object({ id: z.string().regex(/^[1-9][0-9]{0,14}$/).describe('user id') });
const code = z.object({ code: z.string().describe('category code') });
const photoName = z.object({ name: z.string().regex(/^[0-9a-f]{64}(\.thumb)?\.jpg$/).describe('<sha256>.jpg or <sha256>.thumb.jpg') });
const list = <T extends z.ZodType>(item: T) => z.object({ items: z.array(item) });
const MODERATORS = ['moderator', 'admin'] as const;

/** multipart/form-data text fields (numbers as decimal strings) of a new report and of an answer. */
const reportFields = z.object({
  category: z.string(),
  district: z.string(),
  address: z.string().min(3).max(300),
  description: z.string().min(10).max(2000),
  lat: z.string().optional(),
  lng: z.string().optional(),
});
const answerFields = z.object({ text: z.string().min(3).max(2000), outcome: answerOutcomeSchema, plannedFor: z.string().optional().describe('YYYY-MM-DD, for planned') });

const O311 = '/open311/v2' as const;
const requestId = z.object({ id: z.string().regex(/^[1-9][0-9]{0,11}$/).describe('service_request_id') });
const serviceCode = z.object({ code: z.string().describe('service_code (a category code)') });

/** Open311 GeoReport v2 (JSON) beside the API: the categories as services, reports as service requests. */
export function open311Catalog(): RouteDoc[] {
  return [
    { mount: O311, method: 'get', path: '/discovery.json', tag: 'open311', auth: 'public', summary: 'Open311 service discovery', responses: { 200: { description: 'Discovery document (JSON)' } }, errors: [503] },
    { mount: O311, method: 'get', path: '/services.json', tag: 'open311', auth: 'public', summary: 'The categories as Open311 services', responses: { 200: ok(z.array(open311ServiceSchema)) }, errors: [503] },
    { mount: O311, method: 'get', path: '/services/:code.json', tag: 'open311', auth: 'public', summary: 'A service definition (its one attribute: the district)', params: serviceCode, responses: { 200: { description: 'Service definition (JSON)' } }, errors: [503] },
    { mount: O311, method: 'get', path: '/requests.json', tag: 'open311', auth: 'public', summary: 'Service requests (reports; no reporter data), newest first, at most 1,000', query: open311RequestsQuery, responses: { 200: ok(z.array(open311RequestSchema)) }, errors: [503] },
    { mount: O311, method: 'get', path: '/requests/:id.json', tag: 'open311', auth: 'public', summary: 'One service request', params: requestId, responses: { 200: ok(z.array(open311RequestSchema)) }, errors: [503] },
    { mount: O311, method: 'post', path: '/requests.json', tag: 'open311', auth: 'user', summary: 'File a report as the signed-in resident (form-encoded or JSON)', body: open311CreateBody, responses: { 201: ok(open311CreatedSchema, 'Filed') }, errors: [409, 413, 429, 503] },
  ];
}

/** Our City's routes under /api/city (contract: shared/city.ts). */
export function cityCatalog(): RouteDoc[] {
  return [
    { method: 'get', path: '/city/categories', tag: 'our city', auth: 'public', summary: 'Report categories (ru/en, responsible organisation kind, deadline in working days)', responses: { 200: ok(list(categorySchema)) }, errors: [503] },
    { method: 'post', path: '/city/categories', tag: 'our city', auth: ['admin'], summary: 'Add a category', body: categoryCreateSchema, responses: { 201: ok(categorySchema, 'Created') }, errors: [409, 503] },
    { method: 'patch', path: '/city/categories/:code', tag: 'our city', auth: ['admin'], summary: 'Change a category', params: code, body: categoryPatchSchema, responses: { 200: ok(categorySchema) }, errors: [503] },
    { method: 'get', path: '/city/organisations', tag: 'our city', auth: 'public', summary: 'Responsible organisations with their districts and categories', query: organisationListQuerySchema, responses: { 200: ok(list(organisationSchema)) }, errors: [503] },
    { method: 'post', path: '/city/organisations', tag: 'our city', auth: ['admin'], summary: 'Add an organisation', body: organisationCreateSchema, responses: { 201: ok(organisationSchema, 'Created') }, errors: [409, 503] },
    { method: 'patch', path: '/city/organisations/:id', tag: 'our city', auth: ['admin'], summary: 'Change an organisation (districts, categories, active)', params: orgId, body: organisationPatchSchema, responses: { 200: ok(organisationSchema) }, errors: [503] },
    { method: 'get', path: '/city/route-proposal', tag: 'our city', auth: 'public', summary: 'The organisation routing proposes for a category and district', query: routeProposalQuerySchema, responses: { 200: ok(routeProposalSchema) }, errors: [503] },
    { method: 'get', path: '/city/responders/:id', tag: 'our city', auth: ['admin'], summary: "A user's organisations", params: userId, responses: { 200: ok(responderBindingSchema) }, errors: [503] },
    { method: 'put', path: '/city/responders/:id', tag: 'our city', auth: ['admin'], summary: 'Bind a user to organisations (grants or drops the responder role)', params: userId, body: responderBindBodySchema, responses: { 200: ok(responderBindingSchema) }, errors: [503] },
    { method: 'get', path: '/city/reports', tag: 'our city', auth: 'public', summary: 'Reports, filtered (district, okrug, category, status, organisation, overdue, Russian full-text q) and paged; total counted up to 1,000 (more shows as 1,000)', query: reportListQuerySchema, responses: { 200: ok(reportPageSchema) }, errors: [503] },
    { method: 'get', path: '/city/duplicates', tag: 'our city', auth: 'public', summary: 'Open reports with the same category, district and address (support one instead of filing)', query: duplicatesQuerySchema, responses: { 200: ok(list(reportSummarySchema)) }, errors: [503] },
    { method: 'get', path: '/city/reports/:id', tag: 'our city', auth: 'public', summary: 'One report with photos and its timeline (no reporter identity)', params: reportId, responses: { 200: ok(reportSchema) }, errors: [503] },
    {
      method: 'post', path: '/city/reports', tag: 'our city', auth: 'user', summary: `File a report: multipart/form-data, 0–${MAX_PHOTOS} JPEG/PNG/WebP photos of at most 10 MB in "photos"`,
      multipart: { fields: reportFields, files: 'photos', maxFiles: MAX_PHOTOS }, responses: { 201: ok(reportSchema, 'Filed') }, errors: [409, 413, 415, 429, 503],
    },
    { method: 'post', path: '/city/reports/:id/support', tag: 'our city', auth: 'user', summary: '"Me too": support an open report (idempotent)', params: reportId, responses: { 200: ok(supportResultSchema) }, errors: [409, 503] },
    { method: 'post', path: '/city/reports/:id/route', tag: 'our city', auth: [...MODERATORS], summary: 'Route to an organisation (the answer deadline starts)', params: reportId, body: routeBodySchema, responses: { 200: ok(reportSchema) }, errors: [409, 503] },
    { method: 'post', path: '/city/reports/:id/reject', tag: 'our city', auth: [...MODERATORS], summary: 'Reject with a reason from the fixed list and a comment', params: reportId, body: rejectBodySchema, responses: { 200: ok(reportSchema) }, errors: [409, 503] },
    { method: 'post', path: '/city/reports/:id/merge', tag: 'our city', auth: [...MODERATORS], summary: 'Merge into an open duplicate (its reporter and supporters become supporters there)', params: reportId, body: mergeBodySchema, responses: { 200: ok(reportSchema) }, errors: [409, 503] },
    {
      method: 'post', path: '/city/reports/:id/answer', tag: 'our city', auth: ['responder', 'admin'], summary: "The organisation's answer: fixed, planned (date) or not ours (back to moderation); multipart with 0–5 photos",
      params: reportId, multipart: { fields: answerFields, files: 'photos', maxFiles: MAX_PHOTOS }, responses: { 200: ok(reportSchema) }, errors: [409, 413, 415, 503],
    },
    { method: 'post', path: '/city/reports/:id/confirm', tag: 'our city', auth: 'user', summary: 'The reporter confirms the fix (closes it, credits points once)', params: reportId, responses: { 200: ok(reportSchema) }, errors: [409, 503] },
    { method: 'post', path: '/city/reports/:id/dispute', tag: 'our city', auth: 'user', summary: 'The reporter disputes the answer (back to the organisation with a new deadline)', params: reportId, body: disputeBodySchema, responses: { 200: ok(reportSchema) }, errors: [409, 503] },
    { method: 'get', path: '/city/queue', tag: 'our city', auth: [...MODERATORS], summary: 'Moderation queue: submitted reports, oldest first, with the proposed organisation', query: queueQuerySchema, responses: { 200: ok(reportPageSchema) }, errors: [503] },
    { method: 'get', path: '/city/inbox', tag: 'our city', auth: ['responder', 'moderator', 'official', 'admin'], summary: "Routed reports of your organisations, nearest deadline first", query: inboxQuerySchema, responses: { 200: ok(reportPageSchema) }, errors: [503] },
    { method: 'get', path: '/city/my/reports', tag: 'our city', auth: 'user', summary: 'Reports you filed or support', query: queueQuerySchema.pick({ page: true, pageSize: true }), responses: { 200: ok(reportPageSchema) }, errors: [503] },
    { method: 'get', path: '/city/my/alerts', tag: 'our city', auth: 'user', summary: 'The districts and categories you follow', responses: { 200: ok(areaAlertsSchema) }, errors: [503] },
    { method: 'put', path: '/city/my/alerts', tag: 'our city', auth: 'user', summary: 'Follow districts and categories (new reports and answers there reach your inbox)', body: areaAlertsSchema, responses: { 200: ok(areaAlertsSchema) }, errors: [503] },
    { method: 'get', path: '/city/board', tag: 'our city', auth: 'public', summary: 'Accountability board per organisation or district over a period', query: boardQuerySchema, responses: { 200: ok(boardSchema) }, errors: [503] },
    {
      method: 'get', path: '/city/photos/:name', tag: 'our city', auth: 'public', summary: 'A stored photo or thumbnail (re-encoded JPEG without metadata; immutable)', params: photoName,
      responses: { 200: { description: 'JPEG bytes', contentType: 'image/jpeg' }, 304: { description: 'Not modified (ETag)' } }, errors: [503],
    },
  ];
}
