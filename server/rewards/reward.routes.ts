import { Router } from 'express';
import { requireRole, requireUser } from '../auth/auth.middleware.ts';
import { AppError, parseOr } from '../errors.ts';
import { rewardCreateSchema, rewardIdParamsSchema, rewardPatchSchema } from '../../shared/rewards.ts';
import type { RewardService } from './reward.service.ts';

/**
 * Rewards shop: `GET /api/rewards` (public; admins also see inactive ones), `POST /api/rewards` and
 * `PATCH /api/rewards/:id` (admins), `POST /api/rewards/:id/redeem` (signed in), `GET /api/me/redemptions`.
 */
export function rewardsRouter(rewards: RewardService): Router {
  const r = Router();
  const idOf = (params: unknown) => Number(parseOr(rewardIdParamsSchema, params, 'invalid_params', 'Invalid reward id').id);

  r.get('/rewards', async (req, res) => {
    res.json({ rewards: await rewards.list({ includeInactive: !!req.user?.roles.includes('admin') }) });
  });
  r.get('/rewards/:id', async (req, res) => {
    const reward = await rewards.get(idOf(req.params));
    if (!reward.active && !req.user?.roles.includes('admin')) throw new AppError('not_found', 'No such reward on sale');
    res.json({ reward });
  });
  r.post('/rewards', requireRole('admin'), async (req, res) => {
    const body = parseOr(rewardCreateSchema, req.body ?? {}, 'invalid_body', 'Invalid reward');
    res.status(201).json({ reward: await rewards.create(body) });
  });
  r.patch('/rewards/:id', requireRole('admin'), async (req, res) => {
    const id = idOf(req.params);
    const body = parseOr(rewardPatchSchema, req.body ?? {}, 'invalid_body', 'Invalid reward change');
    res.json({ reward: await rewards.update(id, body) });
  });
  r.post('/rewards/:id/redeem', requireUser, async (req, res) => {
    const id = idOf(req.params);
    res.status(201).json(await rewards.redeem(req.user!.id, id));
  });
  r.get('/me/redemptions', requireUser, async (req, res) => {
    res.json({ redemptions: await rewards.mine(req.user!.id) });
  });
  return r;
}
