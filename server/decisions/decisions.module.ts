import { Router } from 'express';
import type { Config } from '../config.ts';
import type { Logger } from '../logger.ts';
import type { Redis } from '../redis/connection.ts';
import type { Keys } from '../redis/keys.ts';
import type { Queues } from '../jobs/queues.ts';
import type { RealtimeEmitter } from '../realtime/emitter.ts';
import { createCalendar } from './working-days.ts';
import { createDecisionStore } from './decision.store.ts';
import { createDecisionService } from './decision.service.ts';
import { decisionRoutes } from './decision.routes.ts';
import { createNotificationStore } from '../notifications/notification.store.ts';
import { createNotificationService } from '../notifications/notification.service.ts';
import { notificationRoutes } from '../notifications/notification.routes.ts';
import { createFanoutHandler } from '../notifications/fanout.job.ts';
import type { PollService } from '../polls/poll.service.ts';
import type { PollViews } from '../polls/poll.views.ts';
import type { BallotService } from '../ballots/ballot.service.ts';
import { createArchiveService } from '../archive/archive.service.ts';
import { archiveRoutes } from '../archive/archive.routes.ts';
import { openApiRoutes } from '../openapi/openapi.routes.ts';
import type { JobHandlers } from '../jobs/job-data.ts';

/**
 * Issue 7 in one place: decisions (+ answer deadline), notifications (inbox + fan-out), the public
 * archive and open data. context.ts spreads what this returns; app.ts mounts `civicRoutes`.
 */
export function createCivicDomain(deps: {
  redis: Redis;
  keys: Keys;
  config: Config;
  logger: Logger;
  queues: Pick<Queues, 'notifications'>;
  realtime: RealtimeEmitter;
  polls: Pick<PollService, 'get' | 'getFinal'>;
  ballots: Pick<BallotService, 'results' | 'voterIds'>;
  pollViews: Pick<PollViews, 'list'>;
}) {
  const { redis, keys, config, logger, realtime, polls, ballots } = deps;
  const decisionStore = createDecisionStore(redis, keys);
  const notificationStore = createNotificationStore(redis, keys);
  const notifications = createNotificationService({ store: notificationStore, realtime, logger });
  const decisions = createDecisionService({
    store: decisionStore,
    polls,
    queues: deps.queues,
    realtime,
    logger,
    calendar: createCalendar({ extraHolidays: config.PUBLIC_HOLIDAYS, extraWorkingWeekends: config.WORKING_WEEKENDS, utcOffsetMinutes: config.CITY_UTC_OFFSET_MINUTES }),
    deadlineWorkingDays: config.ANSWER_DEADLINE_WORKING_DAYS,
    chunkBits: config.NOTIFY_CHUNK_BITS,
  });
  const archive = createArchiveService({ polls, feed: deps.pollViews, ballots, decisions });
  const fanout = createFanoutHandler({ polls, ballots, decisions: decisionStore, notifications, store: notificationStore, logger, pauseMs: config.NOTIFY_CHUNK_PAUSE_MS });
  return { decisions, decisionStore, notifications, notificationStore, archive, fanout };
}
export type CivicDomain = ReturnType<typeof createCivicDomain>;

/** The routers of issue 7 (decisions, inbox, archive + open data, /docs). */
export function civicRoutes(ctx: Pick<CivicDomain, 'decisions' | 'notifications' | 'archive'>): Router {
  const r = Router();
  r.use(decisionRoutes(ctx.decisions));
  r.use(notificationRoutes(ctx.notifications));
  r.use(archiveRoutes(ctx.archive));
  r.use(openApiRoutes({ version: '0.1.0' }));
  return r;
}

/** The `notifications` queue's handlers by job name (each validates its job.data). */
export function notificationHandlers(ctx: Pick<CivicDomain, 'fanout'>): JobHandlers {
  return { fanout: (job) => ctx.fanout(job) };
}
