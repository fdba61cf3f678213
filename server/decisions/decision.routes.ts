import { Router, type Request } from 'express';
import { z } from 'zod';
import { parseOr } from '../errors.ts';
import { requireRole } from '../auth/auth.middleware.ts';
import type { DecisionService } from './decision.service.ts';

const idParam = z.object({ id: z.string().regex(/^[1-9][0-9]{0,14}$/, 'must be a positive integer poll id') });
export const pollIdOf = (req: Request) => Number(parseOr(idParam, req.params, 'invalid_params', 'Invalid poll id').id);

/**
 * `GET /api/polls/:id/decision` (public: decision, timeline, answer deadline), `POST /api/polls/:id/decision`
 * and `POST /api/polls/:id/decision/status` (officials and admins).
 */
export function decisionRoutes(decisions: DecisionService): Router {
  const r = Router();
  const officials = requireRole('official', 'admin');

  r.get('/polls/:id/decision', async (req, res) => {
    res.json(await decisions.view(pollIdOf(req)));
  });

  r.post('/polls/:id/decision', officials, async (req, res) => {
    res.status(201).json(await decisions.publish(pollIdOf(req), req.body, req.user!));
  });

  r.post('/polls/:id/decision/status', officials, async (req, res) => {
    res.json(await decisions.step(pollIdOf(req), req.body, req.user!));
  });

  return r;
}
