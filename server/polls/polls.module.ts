import { Router } from 'express';
import type { Config } from '../config.ts';
import type { Logger } from '../logger.ts';
import type { Redis } from '../redis/connection.ts';
import type { Keys } from '../redis/keys.ts';
import type { Queues } from '../jobs/queues.ts';
import type { RealtimeEmitter } from '../realtime/emitter.ts';
import type { RefusalCounter } from '../ballots/refusal-counter.ts';
import type { Electorate } from '../representativeness/electorate.ts';
import { createBallotStore } from '../ballots/ballot.store.ts';
import { createBallotService } from '../ballots/ballot.service.ts';
import { createAwardBatchStore } from '../ballots/award-batch.store.ts';
import { createPollStore } from './poll.store.ts';
import { createPollCache } from './poll.cache.ts';
import { createPollService } from './poll.service.ts';
import { createPollViews } from './poll.views.ts';
import { pollRoutes } from './poll.routes.ts';

/**
 * The polls and ballots domain wired once: one definition cache shared by the lifecycle (`polls`),
 * the vote path (`ballots`) and the viewer reads (`pollViews`). context.ts spreads what this returns.
 */
export function createPollsDomain(deps: {
  redis: Redis;
  keys: Keys;
  config: Config;
  logger: Logger;
  queues: Pick<Queues, 'lifecycle' | 'points'>;
  realtime: Pick<RealtimeEmitter, 'toPoll'>;
  refusals?: Pick<RefusalCounter, 'invalid'>;
  /** The turnout's base on staff views. */
  electorate?: Pick<Electorate, 'count'>;
}) {
  const { redis, keys, config, logger, queues, realtime } = deps;
  const store = createPollStore(redis, keys);
  const cache = createPollCache(store, logger.child({ domain: 'polls' }));
  const polls = createPollService({ store, cache, logger, queues, realtime });
  const ballots = createBallotService({ cache, store: createBallotStore(redis, keys, config), awards: createAwardBatchStore(redis, keys), finals: polls, config, logger, queues, refusals: deps.refusals });
  const pollViews = createPollViews({ cache, store, ballots, minGroup: config.RESULTS_MIN_GROUP_SIZE, electorate: deps.electorate });
  return { polls, ballots, pollViews, closePolls: () => cache.close() };
}
export type PollsDomain = ReturnType<typeof createPollsDomain>;

/** `/api/polls…`. */
export function pollsRoutes(d: Pick<PollsDomain, 'polls' | 'ballots' | 'pollViews'>): Router {
  return pollRoutes({ polls: d.polls, ballots: d.ballots, views: d.pollViews });
}
