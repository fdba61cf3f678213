import { Router } from 'express';
import type { Config } from '../config.ts';
import type { Logger } from '../logger.ts';
import type { Redis } from '../redis/connection.ts';
import type { Keys } from '../redis/keys.ts';
import type { Queues } from '../jobs/queues.ts';
import type { RealtimeEmitter } from '../realtime/emitter.ts';
import type { PollService } from '../polls/poll.service.ts';
import { createCalendar } from './working-days.ts';
import { createDecisionStore } from './decision.store.ts';
import { createDecisionService } from './decision.service.ts';
import { decisionRoutes } from './decision.routes.ts';

/** City hall's decisions on polls and their answer deadline. context.ts spreads what this returns. */
export function createDecisionsDomain(deps: {
  redis: Redis;
  keys: Keys;
  config: Config;
  logger: Logger;
  queues: Pick<Queues, 'notifications'>;
  realtime: Pick<RealtimeEmitter, 'toPoll'>;
  polls: Pick<PollService, 'get'>;
}) {
  const { config } = deps;
  const decisionStore = createDecisionStore(deps.redis, deps.keys);
  const decisions = createDecisionService({
    store: decisionStore,
    polls: deps.polls,
    queues: deps.queues,
    realtime: deps.realtime,
    logger: deps.logger,
    calendar: createCalendar({ extraHolidays: config.PUBLIC_HOLIDAYS, extraWorkingWeekends: config.WORKING_WEEKENDS, utcOffsetMinutes: config.CITY_UTC_OFFSET_MINUTES }),
    deadlineWorkingDays: config.ANSWER_DEADLINE_WORKING_DAYS,
    chunkBits: config.NOTIFY_CHUNK_BITS,
  });
  return { decisions, decisionStore };
}
export type DecisionsDomain = ReturnType<typeof createDecisionsDomain>;

/** `/api/polls/:id/decision…`. */
export function decisionsRoutes(d: Pick<DecisionsDomain, 'decisions'>): Router {
  return decisionRoutes(d.decisions);
}
