import express, { Router } from 'express';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { apiCatalog } from './catalog.ts';
import { buildOpenApi, expressRoutes } from './document.ts';

/** Swagger UI's prebuilt files (swagger-ui-dist), served from this server: no CDN is ever needed. */
const SWAGGER_DIR = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));

const page = (title: string) => `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
<link rel="stylesheet" href="/api/docs/assets/swagger-ui.css">
<link rel="icon" href="/api/docs/assets/favicon-32x32.png">
</head>
<body>
<main id="ui"></main>
<script src="/api/docs/assets/swagger-ui-bundle.js"></script>
<script>SwaggerUIBundle({ url: '/api/openapi.json', dom_id: '#ui', deepLinking: true, tryItOutEnabled: false });</script>
</body>
</html>`;

/**
 * The OpenAPI 3.1 document (built once per process from the catalog and the live router stack) at
 * `GET /api/openapi.json`, and a readable page at `GET /api/docs` rendered by Swagger UI from it. A
 * client that asks `/api/docs` for JSON (no `text/html` in Accept) still gets the document.
 */
export function openApiRoutes(opts: { version: string }): Router {
  const r = Router();
  let doc: string | null = null;
  const json: express.RequestHandler = (req, res) => {
    doc ??= JSON.stringify(buildOpenApi(apiCatalog().routes(), expressRoutes(req.app), opts));
    res.set('cache-control', 'public, max-age=300').type('application/json').send(doc);
  };
  r.get('/openapi.json', json);
  r.get('/docs', (req, res, next) => {
    if (req.accepts(['json', 'html']) !== 'html') return json(req, res, next);
    res.set('cache-control', 'public, max-age=300').type('html').send(page('Active Citizen API'));
  });
  r.use('/docs/assets', express.static(SWAGGER_DIR, { index: false, maxAge: '1d' }));
  return r;
}
