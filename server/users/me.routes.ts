import { Router } from 'express';
import type { UserService } from './user.service.ts';
import { parseOr } from '../errors.ts';
import { requireUser } from '../auth/auth.middleware.ts';
import { profilePatchBody } from '../../shared/auth.ts';
import { DISTRICTS, OKRUGS } from '../../shared/districts.ts';

/** `GET /api/me`, `PATCH /api/me {name, district, birthYear, gender}` (signed in) → {user, okrug}. */
export function meRoutes(deps: { accounts: Pick<UserService, 'view' | 'updateProfile'> }): Router {
  const r = Router();
  r.get('/me', requireUser, (req, res) => {
    res.json(deps.accounts.view(req.user!));
  });
  r.patch('/me', requireUser, async (req, res) => {
    const patch = parseOr(profilePatchBody, req.body, 'invalid_body', 'Invalid profile');
    res.json(await deps.accounts.updateProfile(req.user!.id, patch));
  });
  return r;
}

/** `GET /api/districts` (public): the okrugs and their districts, from shared/districts.ts. */
export function districtRoutes(): Router {
  const r = Router();
  const body = { okrugs: OKRUGS, districts: DISTRICTS };
  r.get('/districts', (_req, res) => {
    res.set('cache-control', 'public, max-age=3600').json(body);
  });
  return r;
}
