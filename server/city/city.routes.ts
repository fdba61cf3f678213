import { Router, type Request, type RequestHandler } from 'express';
import { AppError, parseOr } from '../errors.ts';
import { requireRole, requireUser } from '../auth/auth.middleware.ts';
import type { Config } from '../config.ts';
import type { User } from '../../shared/users.ts';
import {
  ANSWER_FIELDS, REPORT_FIELDS, categoryCodeSchema, categoryCreateSchema, categoryPatchSchema, disputeBodySchema, mergeBodySchema,
  organisationCreateSchema, organisationListQuerySchema, organisationPatchSchema, photoNameSchema, rejectBodySchema, reportIdParamsSchema,
  responderBindBodySchema, routeBodySchema, routeProposalQuerySchema,
} from '../../shared/city.ts';
import {
  areaAlertsSchema, boardQuerySchema, duplicatesQuerySchema, inboxQuerySchema, queueQuerySchema, reportListQuerySchema,
} from '../../shared/city-lists.ts';
import { userIdParams } from '../../shared/auth.ts';
import type { CityDomain } from './city.module.ts';
import { cityPolicy } from './city.policy.ts';
import { readMultipart } from './multipart.ts';
import { createAlertStore } from './alert.store.ts';

/** Paths that take multipart/form-data (the API's JSON-only guard lets these through). */
export const isCityMultipart = (req: Request) => req.method === 'POST' && /^\/city\/reports(\/[^/]+\/answer)?\/?$/.test(req.path);

/** Without a database (no DATABASE_URL, or not migrated yet): 503 `unavailable`, fast. */
export function cityAvailable(city: CityDomain | null): RequestHandler {
  return (_req, _res, next) => {
    if (!city || !city.isReady()) return next(new AppError('unavailable', 'Our City is unavailable (its database is not reachable yet)', null, { 'retry-after': '5' }));
    next();
  };
}

const idOf = (req: Request) => Number(parseOr(reportIdParamsSchema, req.params, 'invalid_params', 'Invalid report id').id);
const orgIdOf = (req: Request) => Number(parseOr(userIdParams, req.params, 'invalid_params', 'Invalid organisation id').id);
const moderator = requireRole('moderator', 'admin');
const admin = requireRole('admin');
const staff = requireRole('moderator', 'official', 'admin', 'responder');

/** The Our City JSON API under /api/city (see shared/city.ts for the contract). */
export function cityRoutes(ctx: { city: CityDomain | null; config: Config; accounts: { get(id: number): Promise<User>; setRoles(actor: User, id: number, roles: User['roles']): Promise<User> } }): Router {
  const r = Router();
  r.use('/city', cityAvailable(ctx.city));
  const city = () => ctx.city!;
  const svc = () => ctx.city!.service;
  const alerts = () => createAlertStore(ctx.city!.db);

  // ---- catalogue ----
  r.get('/city/categories', async (_req, res) => {
    res.set('cache-control', 'public, max-age=60');
    res.json({ items: await city().catalogue.categories() });
  });
  r.post('/city/categories', admin, async (req, res) => {
    res.status(201).json(await city().catalogue.createCategory(parseOr(categoryCreateSchema, req.body, 'invalid_body', 'Invalid category')));
  });
  r.patch('/city/categories/:code', admin, async (req, res) => {
    const code = parseOr(categoryCodeSchema, req.params.code, 'invalid_params', 'Invalid category code');
    res.json(await city().catalogue.patchCategory(code, parseOr(categoryPatchSchema, req.body, 'invalid_body', 'Invalid category')));
  });
  r.get('/city/organisations', async (req, res) => {
    const q = parseOr(organisationListQuerySchema, req.query, 'invalid_query', 'Invalid query');
    res.set('cache-control', 'public, max-age=60');
    res.json({ items: await city().catalogue.organisations(q) });
  });
  r.post('/city/organisations', admin, async (req, res) => {
    res.status(201).json(await city().catalogue.createOrganisation(parseOr(organisationCreateSchema, req.body, 'invalid_body', 'Invalid organisation')));
  });
  r.patch('/city/organisations/:id', admin, async (req, res) => {
    res.json(await city().catalogue.patchOrganisation(orgIdOf(req), parseOr(organisationPatchSchema, req.body, 'invalid_body', 'Invalid organisation')));
  });
  r.get('/city/route-proposal', async (req, res) => {
    const q = parseOr(routeProposalQuerySchema, req.query, 'invalid_query', 'Invalid query');
    res.json({ organisation: await city().catalogue.propose(q.category, q.district) });
  });
  r.get('/city/responders/:id', admin, async (req, res) => {
    const userId = orgIdOf(req);
    await ctx.accounts.get(userId); // 404 for a user who does not exist
    res.json({ userId, organisationIds: await city().catalogue.responderOrgs(userId) });
  });
  /** Binds the user to organisations and keeps the `responder` role in step (granted with any, dropped with none). */
  r.put('/city/responders/:id', admin, async (req, res) => {
    const userId = orgIdOf(req);
    const { organisationIds } = parseOr(responderBindBodySchema, req.body, 'invalid_body', 'Invalid binding');
    const user = await ctx.accounts.get(userId);
    const binding = await city().catalogue.bindResponder(userId, organisationIds);
    const roles = user.roles.filter((x) => x !== 'responder');
    await ctx.accounts.setRoles(req.user!, userId, binding.organisationIds.length ? [...roles, 'responder'] : roles);
    res.json(binding);
  });

  // ---- reports: public reads ----
  r.get('/city/reports', async (req, res) => {
    const q = parseOr(reportListQuerySchema, req.query, 'invalid_query', 'Invalid query');
    res.set('cache-control', 'public, max-age=5');
    res.json(await svc().list(q));
  });
  r.get('/city/duplicates', async (req, res) => {
    const q = parseOr(duplicatesQuerySchema, req.query, 'invalid_query', 'Invalid query');
    res.json({ items: await city().reports.summaries(await city().reports.duplicates(q.category, q.district, q.address)) });
  });
  r.get('/city/reports/:id', async (req, res) => {
    res.json(await svc().get(idOf(req), req.user ?? null));
  });
  r.get('/city/board', async (req, res) => {
    const q = parseOr(boardQuerySchema, req.query, 'invalid_query', 'Invalid query');
    res.set('cache-control', 'public, max-age=30');
    res.json(await city().board.board(q, { utcOffsetMinutes: ctx.config.CITY_UTC_OFFSET_MINUTES }));
  });
  r.get('/city/photos/:name', async (req, res) => {
    const name = parseOr(photoNameSchema, req.params.name, 'invalid_params', 'Invalid photo name');
    const etag = `"${name.slice(0, 64)}${name.includes('.thumb') ? 't' : ''}"`;
    if (req.headers['if-none-match'] === etag) return res.status(304).set('cache-control', 'public, max-age=31536000, immutable').end();
    const data = await city().storage.get(name);
    if (!data) throw new AppError('not_found', 'No such photo');
    res.set({ 'cache-control': 'public, max-age=31536000, immutable', etag, 'x-content-type-options': 'nosniff' }).type('image/jpeg').send(data);
  });

  // ---- reports: residents ----
  r.post('/city/reports', requireUser, async (req, res) => {
    const body = await readMultipart(req, REPORT_FIELDS);
    res.status(201).json(await svc().create(req.user!, body.fields, body.files.map((f) => f.data)));
  });
  r.post('/city/reports/:id/support', requireUser, async (req, res) => {
    res.json(await svc().support(idOf(req), req.user!));
  });
  r.post('/city/reports/:id/confirm', requireUser, async (req, res) => {
    res.json(await svc().confirm(idOf(req), req.user!));
  });
  r.post('/city/reports/:id/dispute', requireUser, async (req, res) => {
    const id = idOf(req);
    res.json(await svc().dispute(id, req.user!, parseOr(disputeBodySchema, req.body, 'invalid_body', 'Invalid dispute').comment));
  });
  r.get('/city/my/reports', requireUser, async (req, res) => {
    const q = parseOr(queueQuerySchema.pick({ page: true, pageSize: true }).strict(), req.query, 'invalid_query', 'Invalid query');
    res.set('cache-control', 'private, no-store');
    res.json(await city().reports.page({ reporterOrSupporter: req.user!.id }, 'newest', q.page, q.pageSize));
  });
  r.get('/city/my/alerts', requireUser, async (req, res) => {
    res.json(await alerts().get(req.user!.id));
  });
  r.put('/city/my/alerts', requireUser, async (req, res) => {
    res.json(await alerts().set(req.user!.id, parseOr(areaAlertsSchema, req.body, 'invalid_body', 'Invalid alerts')));
  });

  // ---- moderation ----
  r.get('/city/queue', moderator, async (req, res) => {
    const q = parseOr(queueQuerySchema, req.query, 'invalid_query', 'Invalid query');
    const page = await city().reports.page({ status: ['submitted'], district: q.district, category: q.category }, 'oldest', q.page, q.pageSize);
    const proposals = await Promise.all(page.items.map((i) => city().catalogue.propose(i.category, i.district)));
    res.json({ ...page, items: page.items.map((i, k) => ({ ...i, proposedOrganisationId: proposals[k]?.id ?? null })) });
  });
  r.post('/city/reports/:id/route', moderator, async (req, res) => {
    const id = idOf(req);
    const b = parseOr(routeBodySchema, req.body, 'invalid_body', 'Invalid routing');
    res.json(await svc().route(id, req.user!, b.organisationId, b.note));
  });
  r.post('/city/reports/:id/reject', moderator, async (req, res) => {
    const id = idOf(req);
    const b = parseOr(rejectBodySchema, req.body, 'invalid_body', 'Invalid rejection');
    res.json(await svc().reject(id, req.user!, b.reason, b.comment));
  });
  r.post('/city/reports/:id/merge', moderator, async (req, res) => {
    const id = idOf(req);
    const b = parseOr(mergeBodySchema, req.body, 'invalid_body', 'Invalid merge');
    res.json(await svc().merge(id, req.user!, b.into, b.note));
  });

  // ---- organisations ----
  r.get('/city/inbox', staff, async (req, res) => {
    const q = parseOr(inboxQuerySchema, req.query, 'invalid_query', 'Invalid query');
    const u = req.user!;
    const bound = u.roles.includes('responder') ? await city().catalogue.responderOrgs(u.id) : [];
    const all = cityPolicy.canSupervise(u) || cityPolicy.canModerate(u);
    if (!all && !bound.length) throw new AppError('forbidden', 'You are not bound to an organisation');
    if (q.organisation && !all && !bound.includes(q.organisation)) throw new AppError('forbidden', 'Not your organisation');
    const organisations = q.organisation ? [q.organisation] : all ? undefined : bound;
    res.json(await city().reports.page({ status: ['routed'], organisations }, 'deadline', q.page, q.pageSize));
  });
  r.post('/city/reports/:id/answer', requireRole('responder', 'admin'), async (req, res) => {
    const id = idOf(req);
    const body = await readMultipart(req, ANSWER_FIELDS);
    res.json(await svc().answer(id, req.user!, body.fields, body.files.map((f) => f.data)));
  });

  return r;
}
