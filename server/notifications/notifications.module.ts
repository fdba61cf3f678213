import type { Router } from 'express';
import type { Config } from '../config.ts';
import type { Logger } from '../logger.ts';
import type { Redis } from '../redis/connection.ts';
import type { Keys } from '../redis/keys.ts';
import type { RealtimeEmitter } from '../realtime/emitter.ts';
import type { JobHandlers } from '../jobs/job-data.ts';
import type { DecisionStore } from '../decisions/decision.store.ts';
import type { PollService } from '../polls/poll.service.ts';
import type { BallotService } from '../ballots/ballot.service.ts';
import { createNotificationStore } from './notification.store.ts';
import { createNotificationService } from './notification.service.ts';
import { notificationRoutes } from './notification.routes.ts';
import { createFanoutHandler } from './fanout.job.ts';

/** The inbox and the fan-out of decision steps to a poll's voters. context.ts spreads what this returns. */
export function createNotificationsDomain(deps: {
  redis: Redis;
  keys: Keys;
  config: Pick<Config, 'NOTIFY_CHUNK_PAUSE_MS'>;
  logger: Logger;
  realtime: Pick<RealtimeEmitter, 'toUser'>;
  polls: Pick<PollService, 'get'>;
  ballots: Pick<BallotService, 'voterIds'>;
  decisionStore: Pick<DecisionStore, 'get' | 'entry'>;
}) {
  const { logger, polls, ballots } = deps;
  const notificationStore = createNotificationStore(deps.redis, deps.keys);
  const notifications = createNotificationService({ store: notificationStore, realtime: deps.realtime, logger });
  const fanout = createFanoutHandler({ polls, ballots, decisions: deps.decisionStore, notifications, store: notificationStore, logger, pauseMs: deps.config.NOTIFY_CHUNK_PAUSE_MS });
  return { notifications, notificationStore, fanout };
}
export type NotificationsDomain = ReturnType<typeof createNotificationsDomain>;

/** `/api/me/notifications…`. */
export function notificationsRoutes(d: Pick<NotificationsDomain, 'notifications'>): Router {
  return notificationRoutes(d.notifications);
}

/** The `notifications` queue's handlers by job name (each validates its job.data). */
export function notificationHandlers(d: Pick<NotificationsDomain, 'fanout'>): JobHandlers {
  return { fanout: (job) => d.fanout(job) };
}
