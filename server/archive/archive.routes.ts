import { Router, type Request, type Response } from 'express';
import { parseOr } from '../errors.ts';
import { archiveQuerySchema } from '../../shared/archive.ts';
import { pollIdOf } from '../decisions/decision.routes.ts';
import { isStaff } from '../polls/poll.access.ts';
import type { ArchiveService, OpenData } from './archive.service.ts';

/** A finalised snapshot never changes: cache it publicly, validate with the ETag. */
function sendOpenData(req: Request, res: Response, data: OpenData, type: string, filename: string) {
  res.set({
    'cache-control': 'public, max-age=3600, stale-while-revalidate=86400',
    etag: data.etag,
    'last-modified': data.lastModified,
    'access-control-allow-origin': '*',
  });
  if (req.headers['if-none-match'] === data.etag) return res.status(304).end();
  res.type(type).set('content-disposition', `inline; filename="${filename}"`).send(data.body);
}

/**
 * `GET /api/archive` (public archive), `GET /api/polls/:id/results.csv` and `.json` (open data: the
 * finalised snapshot, no personal data; 409 invalid_state before finalisation, 403 when results are not public).
 */
export function archiveRoutes(archive: ArchiveService): Router {
  const r = Router();

  r.get('/archive', async (req, res) => {
    const q = parseOr(archiveQuerySchema, req.query, 'invalid_query', 'Invalid query');
    const reader = isStaff(req.user);
    // staff and officials get a wider archive than the public: never from a shared cache
    res.set('cache-control', reader ? 'private, no-store' : 'public, max-age=30');
    res.vary('cookie');
    res.json(await archive.search(q, Date.now(), reader ? req.user! : null));
  });

  r.get('/polls/:id/results.csv', async (req, res) => {
    const id = pollIdOf(req);
    sendOpenData(req, res, await archive.resultsCsv(id), 'text/csv; charset=utf-8; header=present', `poll-${id}-results.csv`);
  });

  r.get('/polls/:id/results.json', async (req, res) => {
    const id = pollIdOf(req);
    sendOpenData(req, res, await archive.resultsJson(id), 'application/json; charset=utf-8', `poll-${id}-results.json`);
  });

  return r;
}
