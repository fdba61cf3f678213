import express, { Router, type Request } from 'express';
import { z } from 'zod';
import { AppError, apiNotFound, errorMiddleware, parseOr } from '../errors.ts';
import { authenticate, requireUser } from '../auth/auth.middleware.ts';
import { originCheck } from '../http/origin.middleware.ts';
import { rejectDeepJson } from '../json-depth.ts';
import type { AppContext } from '../context.ts';
import { OPEN_STATUSES, categoryCodeSchema, type ReportStatus } from '../../shared/city.ts';
import { open311CreateBody as createBody, open311RequestsQuery as requestsQuery, type Open311Error } from '../../shared/open311.ts';
import { DISTRICTS } from '../../shared/districts.ts';
import { cityAvailable } from './city.routes.ts';
import { photoNames } from './photo.processor.ts';
import { PHOTO_BASE } from './city.module.ts';
import { REPORT_COLUMNS, type ReportRow } from './report.store.ts';

const SPEC = 'http://wiki.open311.org/GeoReport_v2';

/**
 * The GeoReport v2 error: [{code: the HTTP status, description}]. The description is the message, then the
 * field problems ("service_code: …") or the open report a duplicate should support.
 */
export function open311ErrorBody(e: AppError): Open311Error {
  const d = e.details as unknown;
  const fields = Array.isArray(d) ? d.filter((x): x is { path: string; message: string } => typeof x?.message === 'string') : [];
  const existing = d && typeof d === 'object' && 'reportId' in d ? ` (service_request_id ${String((d as { reportId: unknown }).reportId)})` : '';
  const more = fields.length ? `: ${fields.map((f) => (f.path ? `${f.path}: ${f.message}` : f.message)).join('; ')}` : existing;
  return [{ code: e.status, description: `${e.message}${more}` }];
}

const MAX_RESULTS = 1000;
const DAY = 86_400_000;
/** Open311 GeoReport v2, JSON: discovery, services (the categories), requests (reports; no reporter data). */
export function open311Routes(ctx: AppContext): Router {
  const r = Router();
  r.use((_req, res, next) => {
    res.set({ 'cache-control': 'public, max-age=30', 'access-control-allow-origin': '*' });
    next();
  });
  r.use(express.urlencoded({ extended: false, limit: '64kb', parameterLimit: 50 }), express.json({ limit: '64kb' }), rejectDeepJson());
  r.use(originCheck(ctx.config.ALLOWED_ORIGINS));
  r.use(authenticate(ctx));
  r.use(cityAvailable(ctx.city));
  const city = () => ctx.city!;
  const origin = (req: Request) => `${req.protocol}://${req.get('host') ?? 'localhost'}`;

  r.get('/discovery.json', (req, res) => {
    res.json({
      changeset: '2026-01-01T00:00:00Z',
      contact: 'Active Citizen: Our City',
      key_service: 'Sign in on the platform; POST requests.json files as the signed-in resident',
      endpoints: [{ specification: SPEC, url: `${origin(req)}/open311/v2`, changeset: '2026-01-01T00:00:00Z', type: 'production', formats: ['application/json'] }],
    });
  });

  const service = (c: { code: string; name: { ru: string; en: string } }) => ({
    service_code: c.code,
    service_name: c.name.ru,
    description: c.name.en,
    metadata: true,
    type: 'realtime',
    keywords: c.code.replace(/_/g, ' '),
    group: 'city',
  });

  r.get('/services.json', async (_req, res) => {
    res.json((await city().catalogue.categories({ activeOnly: true })).map(service));
  });

  r.get('/services/:code.json', async (req, res) => {
    const code = parseOr(categoryCodeSchema, req.params.code, 'invalid_params', 'Invalid service code');
    const c = await city().catalogue.category(code);
    if (!c || !c.active) throw new AppError('not_found', `No service ${code}`);
    res.json({
      service_code: c.code,
      attributes: [
        {
          variable: true,
          code: 'district',
          datatype: 'singlevaluelist',
          required: true,
          datatype_description: 'The district (район) of the object',
          order: 1,
          description: 'District',
          values: DISTRICTS.map((d) => ({ key: d.id, name: d.name.ru })),
        },
      ],
    });
  });

  async function toRequests(req: Request, rows: ReportRow[]) {
    const orgIds = [...new Set(rows.map((x) => x.organisation_id).filter((x): x is number => x !== null))];
    const [orgs, cats, photos] = await Promise.all([
      city().catalogue.organisations({ ids: orgIds }),
      city().catalogue.categories(),
      city().db.selectFrom('city_photos').select(['report_id', 'hash']).where('report_id', 'in', rows.length ? rows.map((x) => x.id) : [-1]).where('timeline_seq', '=', 0).where('idx', '=', 0).execute(),
    ]);
    const orgName = new Map(orgs.map((o) => [o.id, o.name.ru]));
    const catName = new Map(cats.map((c) => [c.code, c.name.ru]));
    const photo = new Map(photos.map((p) => [p.report_id, p.hash]));
    return rows.map((x) => {
      const open = OPEN_STATUSES.includes(x.status as ReportStatus);
      const hash = photo.get(x.id);
      return {
        service_request_id: String(x.id),
        status: open ? 'open' : 'closed',
        status_notes: x.status,
        service_name: catName.get(x.category) ?? x.category,
        service_code: x.category,
        description: x.description,
        agency_responsible: x.organisation_id !== null ? (orgName.get(x.organisation_id) ?? null) : null,
        service_notice: null,
        requested_datetime: x.created_at.toISOString(),
        updated_datetime: x.updated_at.toISOString(),
        expected_datetime: x.deadline && open ? x.deadline.toISOString() : null,
        address: x.address,
        address_id: null,
        zipcode: null,
        lat: x.lat,
        long: x.lng,
        media_url: hash ? `${origin(req)}${PHOTO_BASE}/${photoNames(hash).full}` : null,
      };
    });
  }

  r.get('/requests.json', async (req, res) => {
    const q = parseOr(requestsQuery, req.query, 'invalid_query', 'Invalid query');
    let sel = city().db.selectFrom('city_reports').select(REPORT_COLUMNS).orderBy('created_at', 'desc').orderBy('id', 'desc').limit(MAX_RESULTS);
    if (q.service_request_id) {
      sel = sel.where('id', 'in', q.service_request_id.split(',').map(Number));
    } else {
      // the spec's default window: the last 90 days, when no dates are given
      const end = q.end_date ?? new Date();
      const start = q.start_date ?? new Date((q.end_date ?? new Date()).getTime() - 90 * DAY);
      sel = sel.where('created_at', '>=', start).where('created_at', '<=', end);
    }
    if (q.service_code) sel = sel.where('category', 'in', q.service_code.split(','));
    if (q.status) {
      const want = new Set(q.status.split(','));
      if (want.size === 1) sel = want.has('open') ? sel.where('status', 'in', [...OPEN_STATUSES]) : sel.where('status', 'not in', [...OPEN_STATUSES]);
    }
    res.json(await toRequests(req, (await sel.execute()) as ReportRow[]));
  });

  r.get('/requests/:id.json', async (req, res) => {
    const id = parseOr(z.string().regex(/^[1-9]\d{0,11}$/), req.params.id, 'invalid_params', 'Invalid service_request_id');
    const row = await city().reports.row(Number(id));
    if (!row) throw new AppError('not_found', `No service request ${id}`);
    res.json(await toRequests(req, [row]));
  });

  r.post('/requests.json', requireUser, async (req, res) => {
    const b = parseOr(createBody, req.body ?? {}, 'invalid_body', 'Invalid service request');
    const fields: Record<string, string> = {
      category: b.service_code,
      district: b['attribute[district]'] ?? b.attribute?.district ?? '',
      address: b.address_string ?? '',
      description: b.description,
    };
    if (b.lat !== undefined) fields.lat = String(b.lat);
    if (b.long !== undefined) fields.lng = String(b.long);
    const report = await city().service.create(req.user!, fields, []);
    res.set('cache-control', 'no-store').status(201).json([{ service_request_id: String(report.id), service_notice: null, account_id: null }]);
  });

  r.use(apiNotFound);
  // every failure under /open311/v2, from any middleware above (bad JSON, Origin, sign-in, 503) or route
  r.use(errorMiddleware(ctx.logger, open311ErrorBody));
  return r;
}
