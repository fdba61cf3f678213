import type { Logger } from '../logger.ts';
import type { RealtimeEmitter } from '../realtime/emitter.ts';
import type { MarkRead, NotificationList } from '../../shared/notifications.ts';
import type { NotificationStore, InboxItem } from './notification.store.ts';

export type NotificationServiceDeps = {
  store: NotificationStore;
  realtime: Pick<RealtimeEmitter, 'toUser'>;
  logger: Logger;
};

/** Inboxes: list, unread count, mark read; delivery at most once per (user, notification) with a live push. */
export function createNotificationService(deps: NotificationServiceDeps) {
  const { store, realtime } = deps;
  const log = deps.logger.child({ domain: 'notifications' });
  return {
    async list(userId: number, offset: number, limit: number): Promise<NotificationList> {
      const { items, total, unread } = await store.list(userId, offset, limit);
      const next = offset + items.length;
      return { items, unread, total, nextOffset: items.length === limit && next < total ? next : null };
    },

    unread: (userId: number) => store.unread(userId),

    async markRead(userId: number, body: MarkRead): Promise<number> {
      return store.markRead(userId, 'all' in body ? 'all' : body.ids);
    },

    /**
     * Deliver one item to many users (one pipeline); push the socket `notification` only to the users
     * it was newly written for. Returns how many were new.
     */
    async deliver(userIds: number[], item: InboxItem): Promise<number> {
      const fresh = await store.deliver(userIds, item);
      for (const { userId, unread } of fresh) {
        try {
          realtime.toUser(userId, 'notification', { ...item, unread });
        } catch (err) {
          log.warn({ err, userId }, 'notification push failed (the inbox has it)');
        }
      }
      return fresh.length;
    },
  };
}
export type NotificationService = ReturnType<typeof createNotificationService>;
