import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { testContext } from '../helpers/context.ts';
import { createApp } from '../../server/app.ts';
import { expressRoutes, isDocumentedPath, toOpenApiPath } from '../../server/openapi/document.ts';
import type { AppContext } from '../../server/context.ts';

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

/** Every `$ref` in the document, with where it sits. */
function refs(node: unknown, at = '#'): { ref: string; at: string }[] {
  if (!node || typeof node !== 'object') return [];
  const out: { ref: string; at: string }[] = [];
  for (const [k, v] of Object.entries(node)) {
    if (k === '$ref' && typeof v === 'string') out.push({ ref: v, at });
    else out.push(...refs(v, `${at}/${k}`));
  }
  return out;
}
const resolve = (doc: any, ref: string) => ref.slice(2).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~')).reduce((n: any, k) => (n == null ? undefined : n[k]), doc);

describe('OpenAPI document at /api/docs', () => {
  let ctx: AppContext;
  let server: Server;
  let url: string;
  let app: ReturnType<typeof createApp>;
  let doc: any;
  beforeAll(async () => {
    ctx = testContext();
    app = createApp(ctx);
    server = createServer(app);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const r = await fetch(`${url}/api/docs`);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/application\/json/);
    doc = await r.json();
  });
  afterAll(async () => {
    await new Promise((r) => server.close(r));
    await ctx.close();
  });

  it('when fetched, then it is structurally a valid OpenAPI 3.1 document (info, paths, operations with responses, path params declared, unique operationIds)', () => {
    // No OpenAPI validator package is installed: these are the structural rules of the 3.1 spec that matter here.
    expect(doc.openapi).toMatch(/^3\.1\.\d+$/);
    expect(doc.info).toMatchObject({ title: expect.any(String), version: expect.any(String) });
    expect(Object.keys(doc.paths).length).toBeGreaterThan(10);
    const opIds = new Set<string>();
    for (const [path, item] of Object.entries<any>(doc.paths)) {
      expect(isDocumentedPath(path), path).toBe(true);
      const templated = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
      for (const [method, op] of Object.entries<any>(item)) {
        expect(METHODS, `${path} ${method}`).toContain(method);
        expect(Object.keys(op.responses ?? {}).length, `${method} ${path} has responses`).toBeGreaterThan(0);
        for (const [status, res] of Object.entries<any>(op.responses)) {
          expect(/^([1-5]\d\d|[1-5]XX|default)$/.test(status), `${method} ${path} ${status}`).toBe(true);
          expect(res.$ref ?? res.description, `${method} ${path} ${status} description`).toEqual(expect.any(String));
        }
        const pathParams = (op.parameters ?? []).filter((p: any) => p.in === 'path');
        expect(pathParams.map((p: any) => p.name).sort(), `${method} ${path} path params`).toEqual([...templated].sort());
        for (const p of op.parameters ?? []) {
          expect(['path', 'query', 'header', 'cookie']).toContain(p.in);
          expect(p.schema, `${method} ${path} ${p.name} schema`).toBeTypeOf('object');
          if (p.in === 'path') expect(p.required).toBe(true);
        }
        if (op.requestBody) expect((op.requestBody.content['application/json'] ?? op.requestBody.content['multipart/form-data']).schema).toBeTypeOf('object');
        if (op.operationId) {
          expect(opIds.has(op.operationId), op.operationId).toBe(false);
          opIds.add(op.operationId);
        }
      }
    }
  });

  it('when every $ref is followed, then each resolves inside the document', () => {
    const all = refs(doc);
    expect(all.length).toBeGreaterThan(10);
    for (const { ref, at } of all) {
      expect(ref.startsWith('#/'), `${ref} at ${at}`).toBe(true);
      expect(resolve(doc, ref), `${ref} at ${at}`).toBeDefined();
    }
  });

  it('when a browser opens /api/docs, then it gets the Swagger UI page served from this server (no CDN), whose assets load and which reads /api/openapi.json', async () => {
    const html = await fetch(`${url}/api/docs`, { headers: { accept: 'text/html,application/xhtml+xml' } });
    expect(html.status).toBe(200);
    expect(html.headers.get('content-type')).toMatch(/text\/html/);
    const body = await html.text();
    expect(body).toContain("url: '/api/openapi.json'");
    expect(body).not.toMatch(/https?:\/\//);
    for (const asset of ['/api/docs/assets/swagger-ui-bundle.js', '/api/docs/assets/swagger-ui.css']) {
      const r = await fetch(`${url}${asset}`);
      expect(r.status, asset).toBe(200);
      expect((await r.arrayBuffer()).byteLength, asset).toBeGreaterThan(10_000);
    }
    expect(await (await fetch(`${url}/api/openapi.json`)).json()).toEqual(doc);
    const missing = await fetch(`${url}/api/docs/assets/nope.js`);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { code: string } }).error.code).toBe('not_found');
  });

  it('when the Express router stack is walked, then every route under /api is in the document, described by the catalog (none undocumented)', () => {
    const live = expressRoutes(app).filter((r) => isDocumentedPath(r.path));
    // the walk itself must find the routers of several domains, or this test proves nothing
    expect(live.length).toBeGreaterThan(15);
    for (const p of ['/api/polls/:id/ballots', '/api/polls/:id/decision', '/api/me/notifications', '/api/archive', '/api/polls/:id/results.csv', '/api/rewards', '/api/docs', '/api/city/reports', '/api/city/reports/:id/answer', '/api/city/board', '/open311/v2/requests.json', '/open311/v2/services/:code.json']) {
      expect(live.map((r) => r.path), p).toContain(p);
    }
    const missing: string[] = [];
    const undocumented: string[] = [];
    for (const r of live) {
      const op = doc.paths[toOpenApiPath(r.path)]?.[r.method];
      if (!op) missing.push(`${r.method.toUpperCase()} ${r.path}`);
      else if (op['x-undocumented']) undocumented.push(`${r.method.toUpperCase()} ${r.path}`);
    }
    expect(missing).toEqual([]);
    expect(undocumented, 'add these routes to server/openapi/catalog.ts').toEqual([]);
    // and the document lists nothing that does not exist
    const liveSet = new Set(live.map((r) => `${r.method} ${toOpenApiPath(r.path)}`));
    const extra = Object.entries<any>(doc.paths).flatMap(([p, item]) => Object.keys(item).map((m) => `${m} ${p}`)).filter((k) => !liveSet.has(k));
    expect(extra).toEqual([]);
  });

  it('when schemas come from shared/ zod schemas, then bodies and responses carry their fields and constraints', () => {
    const post = doc.paths['/api/polls/{id}/decision'].post;
    const body = post.requestBody.content['application/json'].schema;
    expect(body).toMatchObject({ type: 'object', required: ['summary', 'body'], additionalProperties: false });
    expect(body.properties.summary).toMatchObject({ type: 'string', minLength: 3, maxLength: 300 });
    expect(post.responses['201'].content['application/json'].schema.properties).toHaveProperty('overdue');
    expect(post.responses['409'].$ref).toBe('#/components/responses/E409');
    const step = doc.paths['/api/polls/{id}/decision/status'].post.requestBody.content['application/json'].schema;
    expect(step.properties.status.enum).toEqual(['in_progress', 'implemented', 'rejected']);
    const archive = doc.paths['/api/archive'].get;
    expect(archive.parameters.map((p: any) => [p.name, p.in, p.required])).toEqual([['q', 'query', false], ['page', 'query', false], ['pageSize', 'query', false]]);
    expect(doc.paths['/api/polls/{id}/results.csv'].get.responses['200'].content).toHaveProperty('text/csv');
    expect(doc.paths['/api/me/notifications'].get.security).toEqual([{ session: [] }]);
    expect(doc.paths['/api/polls'].post.requestBody.content['application/json'].schema.properties.questions.type).toBe('array');
    const upload = doc.paths['/api/city/reports'].post;
    expect(upload.requestBody.content['multipart/form-data'].schema.properties.photos).toMatchObject({ type: 'array', maxItems: 5 });
    for (const status of ['413', '415', '429', '503']) expect(upload.responses[status].$ref).toBe(`#/components/responses/E${status}`);
    expect(doc.paths['/api/city/reports/{id}/reject'].post.requestBody.content['application/json'].schema.properties.reason.enum).toContain('insufficient_details');
  });

  it('when the errors are read, then every Open311 operation documents GeoReport v2 errors [{code, description}] and the API keeps {error:{code,message,details}}', () => {
    const schemaOf = (ref: string) => resolve(doc, ref).content['application/json'].schema.$ref;
    for (const [path, item] of Object.entries<any>(doc.paths)) {
      for (const [method, op] of Object.entries<any>(item)) {
        const want = path.startsWith('/open311/v2/') ? '#/components/schemas/Open311Error' : '#/components/schemas/Error';
        for (const [status, res] of Object.entries<any>(op.responses)) if (status === 'default' || status >= '400') expect(schemaOf(res.$ref), `${method} ${path} ${status}`).toBe(want);
      }
    }
    expect(doc.components.schemas.Open311Error).toMatchObject({
      type: 'array', minItems: 1, items: { type: 'object', properties: { code: { type: 'integer' }, description: { type: 'string' } }, required: ['code', 'description'] },
    });
  });

  it('when a route is added to the app but not to the catalog, then the document still lists it, flagged x-undocumented (what the test above catches)', async () => {
    const { buildOpenApi } = await import('../../server/openapi/document.ts');
    const { apiCatalog } = await import('../../server/openapi/catalog.ts');
    const d: any = buildOpenApi(apiCatalog().routes(), [...expressRoutes(app), { method: 'put', path: '/api/polls/:id' }], { version: 't' });
    expect(d.paths['/api/polls/{id}'].put).toMatchObject({ 'x-undocumented': true, parameters: [{ name: 'id', in: 'path', required: true }] });
  });
});
