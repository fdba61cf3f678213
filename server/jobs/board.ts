import { Router } from 'express';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { Config } from '../config.ts';
import type { Queues } from './queues.ts';
import type { SessionStore } from '../auth/session.store.ts';
import type { UserStore } from '../users/user.store.ts';
import { authenticate, requireRole } from '../auth/auth.middleware.ts';
import { originCheck } from '../http/origin.middleware.ts';

export const BOARD_PATH = '/admin/queues';

/**
 * bull-board at /admin/queues for admins only: session, CSRF origin check (the board's own API
 * retries and removes jobs) and role are checked before the board sees the request; a refusal is
 * the usual JSON error (401/403), never the board.
 */
export function queueBoard(deps: { queues: Pick<Queues, 'all'>; sessions: SessionStore; users: UserStore; config: Pick<Config, 'ALLOWED_ORIGINS'> }): Router {
  const serverAdapter = new ExpressAdapter();
  serverAdapter.setBasePath(BOARD_PATH);
  createBullBoard({
    queues: deps.queues.all().map((q) => new BullMQAdapter(q)),
    serverAdapter,
    options: { uiConfig: { boardTitle: 'Active Citizen queues' } },
  });
  const r = Router();
  r.use((_req, res, next) => {
    res.set('cache-control', 'no-store');
    next();
  });
  r.use(authenticate(deps), originCheck(deps.config.ALLOWED_ORIGINS), requireRole('admin'));
  r.use(serverAdapter.getRouter());
  return r;
}
