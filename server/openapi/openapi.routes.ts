import { Router } from 'express';
import { apiCatalog } from './catalog.ts';
import { buildOpenApi, expressRoutes } from './document.ts';

/** `GET /api/docs`: the OpenAPI 3.1 document, built once per process from the catalog and the live router stack. */
export function openApiRoutes(opts: { version: string }): Router {
  const r = Router();
  let doc: string | null = null;
  r.get('/docs', (req, res) => {
    doc ??= JSON.stringify(buildOpenApi(apiCatalog().routes(), expressRoutes(req.app), opts));
    res.set('cache-control', 'public, max-age=300').type('application/json').send(doc);
  });
  return r;
}
