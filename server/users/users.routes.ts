import { Router } from 'express';
import type { UserService } from './user.service.ts';
import { AppError, parseOr } from '../errors.ts';
import { requireRole } from '../auth/auth.middleware.ts';
import { rolesBody, userIdParams, userLookupQuery } from '../../shared/auth.ts';

const adminOnly = requireRole('admin');

/**
 * Admins only: `GET /api/users?phone=…`, `GET /api/users/:id` → {user};
 * `PUT /api/users/:id/roles {roles}` → {user}. Roles take effect on the user's next request.
 */
export function usersRoutes(deps: { accounts: UserService }): Router {
  const r = Router();
  const { accounts } = deps;
  const idOf = (params: unknown) => Number(parseOr(userIdParams, params, 'invalid_params', 'Invalid user id').id);

  r.get('/users', adminOnly, async (req, res) => {
    if (req.query.phone === undefined) throw new AppError('invalid_query', 'Look a user up with ?phone=… or GET /api/users/:id');
    const { phone } = parseOr(userLookupQuery, req.query, 'invalid_query', 'Invalid query');
    res.json({ user: await accounts.getByPhone(phone) });
  });

  r.get('/users/:id', adminOnly, async (req, res) => {
    res.json({ user: await accounts.get(idOf(req.params)) });
  });

  r.put('/users/:id/roles', adminOnly, async (req, res) => {
    const id = idOf(req.params);
    const { roles } = parseOr(rolesBody, req.body, 'invalid_body', 'Invalid roles');
    res.json({ user: await accounts.setRoles(req.user!, id, roles) });
  });

  return r;
}
