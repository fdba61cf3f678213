import { Router, type Request, type Response, type NextFunction } from 'express';
import { AppError } from '../errors.ts';
import { pollIdOf } from '../decisions/decision.routes.ts';
import type { IntegrityService } from './integrity.service.ts';

/** A published ledger file: immutable (named by its hash), public, cacheable forever, CORS-open. */
async function sendLedger(integrity: IntegrityService, ext: 'jsonl' | 'csv', req: Request, res: Response, next: NextFunction) {
  const id = pollIdOf(req);
  const file = await integrity.publishedLedger(id, req.user ?? null, ext);
  const etag = `"${file.sha256}"`;
  res.set({
    'cache-control': 'public, max-age=31536000, immutable',
    etag,
    'access-control-allow-origin': '*',
    'access-control-expose-headers': 'etag, x-ledger-sha256',
    'x-ledger-sha256': file.sha256,
  });
  if (req.headers['if-none-match'] === etag) return res.status(304).end();
  res.type(ext === 'jsonl' ? 'application/jsonl; charset=utf-8' : 'text/csv; charset=utf-8; header=present');
  res.set('content-disposition', `inline; filename="poll-${id}-ledger.${ext}"`);
  res.sendFile(file.path, { etag: false, lastModified: false, cacheControl: false }, (err) => {
    if (err && !res.headersSent) next(new AppError('unavailable', 'The ledger file could not be read; try again later'));
  });
}

/**
 * The open count: `GET /api/polls/:id/integrity` (counters and checks), `GET /api/polls/:id/representativeness`
 * (turnout and the weighted result), `GET /api/polls/:id/ledger.jsonl` and `.csv` (the published ballot ledger).
 */
export function integrityRoutes(integrity: IntegrityService): Router {
  const r = Router();
  r.get('/polls/:id/integrity', async (req, res) => {
    res.json(await integrity.report(pollIdOf(req), req.user ?? null));
  });
  r.get('/polls/:id/representativeness', async (req, res) => {
    res.json(await integrity.representativeness(pollIdOf(req), req.user ?? null));
  });
  r.get('/polls/:id/ledger.jsonl', (req, res, next) => sendLedger(integrity, 'jsonl', req, res, next));
  r.get('/polls/:id/ledger.csv', (req, res, next) => sendLedger(integrity, 'csv', req, res, next));
  return r;
}
