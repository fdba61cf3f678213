import { Router } from 'express';
import { requireUser } from '../auth/auth.middleware.ts';
import { parseOr } from '../errors.ts';
import { myPointsQuerySchema } from '../../shared/points.ts';
import type { PointsService } from './points.service.ts';

/** `GET /api/me/points` → {balance, earned, level, activeCitizen, nextLevelAt, ledger}. */
export function pointsRouter(points: PointsService): Router {
  const r = Router();
  r.get('/me/points', requireUser, async (req, res) => {
    const q = parseOr(myPointsQuerySchema, req.query, 'invalid_query', 'Invalid query');
    res.json(await points.mine(req.user!.id, q.limit));
  });
  return r;
}
