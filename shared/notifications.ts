import { z } from 'zod';

// Owned by the notifications domain: a signed-in user's inbox. The live push is the socket
// event `notification` (NotificationFrame in shared/socket.ts: an item plus the new unread count).

/** decision.<status>: a poll you voted in got a decision, or its decision moved. */
/**
 * city.step: a report you filed or support moved (any timeline step); city.alert: a new report or an answer in an
 * area you follow; city.reminder: your organisation's deadline is 2 working days away; city.escalation: a report
 * passed its deadline (moderators and officials).
 */
export const NOTIFICATION_KINDS = [
  'decision.decided', 'decision.in_progress', 'decision.implemented', 'decision.rejected',
  'city.step', 'city.alert', 'city.reminder', 'city.escalation',
] as const;
export const notificationKindSchema = z.enum(NOTIFICATION_KINDS);
export type NotificationKind = z.infer<typeof notificationKindSchema>;

/** Notification ids are deterministic per event (`d<pollId>.<seq>`), so a user holds each event once. */
export const notificationIdSchema = z.string().regex(/^[a-z]\d{1,12}\.\d{1,6}$/, 'must be a notification id like "d42.1"');

export const notificationSchema = z.object({
  id: z.string(),
  kind: notificationKindSchema,
  title: z.string(),
  body: z.string(),
  pollId: z.number().int().optional(),
  /** The poll's title alone, so a client can word `title` in its own language from `kind` (title is English). */
  pollTitle: z.string().optional(),
  /** Our City notifications: the report concerned. */
  reportId: z.number().int().optional(),
  createdAt: z.string(),
  read: z.boolean(),
});
export type Notification = z.infer<typeof notificationSchema>;

/** `GET /api/me/notifications?offset=&limit=` (newest first). */
export const notificationListQuerySchema = z
  .object({
    offset: z.coerce.number().int().min(0).max(10_000).default(0),
    limit: z.coerce.number().int().min(1).max(100).default(20),
  })
  .strict();
export type NotificationListQuery = z.infer<typeof notificationListQuerySchema>;

export const notificationListSchema = z.object({
  items: z.array(notificationSchema),
  unread: z.number().int(),
  total: z.number().int(),
  /** offset of the next page; null on the last page. */
  nextOffset: z.number().int().nullable(),
});
export type NotificationList = z.infer<typeof notificationListSchema>;

export const unreadCountSchema = z.object({ unread: z.number().int() });
export type UnreadCount = z.infer<typeof unreadCountSchema>;

/** `POST /api/me/notifications/read`: some ids, or all. */
export const markReadSchema = z
  .union([
    z.object({ ids: z.array(notificationIdSchema).min(1).max(100) }).strict(),
    z.object({ all: z.literal(true) }).strict(),
  ]);
export type MarkRead = z.infer<typeof markReadSchema>;
