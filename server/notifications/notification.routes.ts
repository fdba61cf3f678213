import { Router } from 'express';
import { parseOr } from '../errors.ts';
import { requireUser } from '../auth/auth.middleware.ts';
import { markReadSchema, notificationListQuerySchema } from '../../shared/notifications.ts';
import type { NotificationService } from './notification.service.ts';

/** The signed-in user's inbox: `GET /api/me/notifications`, `GET /api/me/notifications/unread`, `POST /api/me/notifications/read`. */
export function notificationRoutes(notifications: NotificationService): Router {
  const r = Router();

  r.get('/me/notifications', requireUser, async (req, res) => {
    const q = parseOr(notificationListQuerySchema, req.query, 'invalid_query', 'Invalid query');
    res.json(await notifications.list(req.user!.id, q.offset, q.limit));
  });

  r.get('/me/notifications/unread', requireUser, async (req, res) => {
    res.json({ unread: await notifications.unread(req.user!.id) });
  });

  r.post('/me/notifications/read', requireUser, async (req, res) => {
    const body = parseOr(markReadSchema, req.body ?? {}, 'invalid_body', 'Send {"ids":[...]} or {"all":true}');
    res.json({ unread: await notifications.markRead(req.user!.id, body) });
  });

  return r;
}
