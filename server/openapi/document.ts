import { z } from 'zod';
import { errorBodySchema } from '../../shared/errors.ts';
import { open311ErrorSchema } from '../../shared/open311.ts';
import type { HttpMethod, RouteDoc } from './registry.ts';

type Json = Record<string, unknown>;
export type LiveRoute = { method: string; path: string };

/** zod → JSON Schema 2020-12 (what OpenAPI 3.1 uses), without the `$schema` marker. */
function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): Json {
  const s = z.toJSONSchema(schema, { io, unrepresentable: 'any', target: 'draft-2020-12' }) as Json;
  delete s.$schema;
  return s;
}

/** The mounts the document covers: the platform's API and the Open311 GeoReport v2 endpoints beside it. */
export const DOCUMENTED_MOUNTS = ['/api', '/open311/v2'] as const;
export const isDocumentedPath = (p: string) => DOCUMENTED_MOUNTS.some((m) => p.startsWith(`${m}/`));

/** `/polls/:id/results.csv` → `/polls/{id}/results.csv` */
export const toOpenApiPath = (expressPath: string) => expressPath.replace(/:([A-Za-z_][A-Za-z0-9_]*)/g, '{$1}');

const ERROR_TEXT: Record<number, string> = {
  400: 'Invalid input (code invalid_params / invalid_query / invalid_body / …)',
  401: 'Not signed in (unauthenticated)',
  403: 'Not allowed (forbidden, csrf_rejected, …)',
  404: 'No such resource (not_found)',
  409: 'Conflicts with the current state (invalid_state, conflict, …)',
  413: 'Too large (payload_too_large)',
  415: 'Wrong media type (unsupported_media_type)',
  429: 'Rate limited',
  503: 'A backing service is unavailable (unavailable): retry after Retry-After',
};

function parameters(where: 'path' | 'query', obj: z.ZodObject | undefined, pathNames: string[]): Json[] {
  const out: Json[] = [];
  const shape = (obj?.shape ?? {}) as Record<string, z.ZodType>;
  const names = where === 'path' ? pathNames : Object.keys(shape);
  for (const name of names) {
    const field = shape[name];
    out.push({
      name,
      in: where,
      required: where === 'path' ? true : !field.safeParse(undefined).success,
      schema: field ? jsonSchema(field, 'input') : { type: 'string' },
      ...(field?.description ? { description: field.description } : {}),
    });
  }
  return out;
}

function multipartSchema(m: NonNullable<RouteDoc['multipart']>): Json {
  const fields = jsonSchema(m.fields, 'input') as { properties?: Json; required?: string[] };
  return {
    type: 'object',
    properties: { ...fields.properties, [m.files]: { type: 'array', maxItems: m.maxFiles, items: { type: 'string', contentMediaType: 'application/octet-stream' } } },
    required: fields.required ?? [],
  };
}

function operation(r: RouteDoc): Json {
  const pathNames = [...r.path.matchAll(/:([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => m[1]);
  const responses: Json = {};
  for (const [status, res] of Object.entries(r.responses)) {
    const content = res.contentType
      ? { [res.contentType]: { schema: { type: 'string' } } }
      : res.schema
        ? { 'application/json': { schema: jsonSchema(res.schema, 'output') } }
        : undefined;
    responses[status] = { description: res.description, ...(content ? { content } : {}) };
  }
  const errors = new Set<number>([400, ...(r.errors ?? [])]);
  if (r.auth !== 'public') errors.add(401);
  if (Array.isArray(r.auth) || r.method !== 'get') errors.add(403); // roles, or the Origin check on writes
  if (pathNames.length) errors.add(404);
  // Open311's errors have the GeoReport v2 shape, the API's the platform's
  const prefix = r.mount === '/open311/v2' ? 'Open311' : '';
  for (const e of [...errors].sort()) responses[String(e)] = { $ref: `#/components/responses/${prefix}E${e}` };
  responses.default = { $ref: `#/components/responses/${prefix}Error` };
  const auth = r.auth === 'public' ? 'anyone' : r.auth === 'user' ? 'any signed-in user' : `roles: ${r.auth.join(', ')}`;
  return {
    operationId: `${r.method}${r.mount === '/open311/v2' ? 'Open311' : ''}${r.path.replace(/[^A-Za-z0-9]+(.)?/g, (_, c: string | undefined) => (c ? c.toUpperCase() : ''))}`,
    summary: r.summary,
    description: `Who: ${auth}.`,
    tags: [r.tag],
    ...(r.auth === 'public' ? { security: [{}, { session: [] }] } : { security: [{ session: [] }] }),
    parameters: [...parameters('path', r.params, pathNames), ...parameters('query', r.query, [])],
    ...(r.body ? { requestBody: { required: true, content: { 'application/json': { schema: jsonSchema(r.body, 'input') } } } } : {}),
    ...(r.multipart ? { requestBody: { required: true, content: { 'multipart/form-data': { schema: multipartSchema(r.multipart) } } } } : {}),
    responses,
  };
}

/**
 * The OpenAPI 3.1 document of the API under /api: every documented route (schemas generated from
 * shared/ with z.toJSONSchema) plus — flagged `x-undocumented` — any live Express route the catalog
 * lacks, so the document always lists every route.
 */
export function buildOpenApi(routes: RouteDoc[], live: LiveRoute[], info: { version: string }): Json {
  const paths: Record<string, Record<string, Json>> = {};
  for (const r of routes) (paths[`${r.mount ?? '/api'}${toOpenApiPath(r.path)}`] ??= {})[r.method] = operation(r);
  for (const l of live) {
    if (!isDocumentedPath(l.path)) continue;
    const p = toOpenApiPath(l.path);
    const m = l.method.toLowerCase() as HttpMethod;
    if (paths[p]?.[m]) continue;
    (paths[p] ??= {})[m] = {
      summary: 'Undocumented route (add it to server/openapi/catalog.ts)',
      'x-undocumented': true,
      parameters: [...l.path.matchAll(/:([A-Za-z_][A-Za-z0-9_]*)/g)].map((x) => ({ name: x[1], in: 'path', required: true, schema: { type: 'string' } })),
      responses: { default: { $ref: '#/components/responses/Error' } },
    };
  }
  const errorResponse = (description: string, schema = 'Error') => ({ description, content: { 'application/json': { schema: { $ref: `#/components/schemas/${schema}` } } } });
  return {
    openapi: '3.1.0',
    info: {
      title: 'Active Citizen API',
      version: info.version,
      description:
        'Participatory polling: polls and ballots, live results (Socket.IO, not described here), decisions and their deadlines, notifications, the public archive and open data; Our City, also as Open311 GeoReport v2 under /open311/v2. Errors under /api are always `{error:{code,message,details}}`; under /open311/v2 they are GeoReport v2 errors, `[{code,description}]` with `code` = the HTTP status. State-changing requests need an allowed Origin and, where noted, a session cookie.',
    },
    servers: [{ url: '/' }],
    tags: [...new Set(routes.map((r) => r.tag))].map((name) => ({ name })),
    paths: Object.fromEntries(Object.entries(paths).sort(([a], [b]) => a.localeCompare(b))),
    components: {
      schemas: { Error: jsonSchema(errorBodySchema, 'output'), Open311Error: jsonSchema(open311ErrorSchema, 'output') },
      responses: {
        ...Object.fromEntries(Object.entries(ERROR_TEXT).map(([s, d]) => [`E${s}`, errorResponse(d)])),
        Error: errorResponse('Any other error (5xx: internal, unavailable)'),
        ...Object.fromEntries(Object.entries(ERROR_TEXT).map(([s, d]) => [`Open311E${s}`, errorResponse(`${d.replace(/ \(.*$/, '')} — [{code: ${s}, description}]`, 'Open311Error')])),
        Open311Error: errorResponse('Any other error (5xx), as [{code, description}]', 'Open311Error'),
      },
      securitySchemes: { session: { type: 'apiKey', in: 'cookie', name: 'ac_sid', description: 'Session cookie set at sign-in' } },
    },
  };
}

/** Every route registered in an Express app (walks the router stack, mount paths included). */
export function expressRoutes(app: { router?: unknown }): LiveRoute[] {
  const out: LiveRoute[] = [];
  type Layer = { route?: { path: string; methods: Record<string, boolean> }; handle?: { stack?: Layer[] }; rawPath?: unknown; slash?: boolean };
  const walk = (stack: Layer[], prefix: string) => {
    for (const l of stack) {
      if (l.route) {
        for (const [m, on] of Object.entries(l.route.methods)) if (on && m !== '_all') out.push({ method: m, path: prefix + l.route.path });
      } else if (l.handle?.stack) {
        const mount = !l.slash && typeof l.rawPath === 'string' ? l.rawPath : '';
        walk(l.handle.stack, prefix + mount);
      }
    }
  };
  walk(((app.router as { stack?: Layer[] } | undefined)?.stack ?? []) as Layer[], '');
  return out;
}
