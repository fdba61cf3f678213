import type { Config } from './config.ts';
import type { Logger } from './logger.ts';
import { createRedis, defineScripts, closeRedis, redisTarget, type Redis } from './redis/connection.ts';
import { createKeys, type Keys } from './redis/keys.ts';
import { createUserStore } from './users/user.store.ts';
import { createSessionStore } from './auth/session.store.ts';
import { createSessionCache } from './auth/session-cache.ts';
import { createIdentity } from './auth/identity.ts';
import { createQueues } from './jobs/queues.ts';
import { createMetrics } from './metrics.ts';
import { createRealtimeEmitter } from './realtime/emitter.ts';
import { createPollsDomain } from './polls/polls.module.ts';
import { createPointsStore } from './points/points.store.ts';
import { createPointsService } from './points/points.service.ts';
import { createRewardStore } from './rewards/reward.store.ts';
import { createRewardService } from './rewards/reward.service.ts';
import { createIntegrityStore } from './jobs/integrity.store.ts';
import { createDecisionsDomain } from './decisions/decisions.module.ts';
import { createNotificationsDomain } from './notifications/notifications.module.ts';
import { createArchiveDomain } from './archive/archive.module.ts';
import { createLiveService } from './realtime/live.service.ts';
import { createCityDomain } from './city/city.module.ts';
import { createOpenCount } from './integrity/open-count.module.ts';
import { createElectorate } from './representativeness/electorate.ts';

/**
 * The dependencies of one server process, built once and passed to factories (no DI container).
 * Domain modules add their stores and services here.
 */
export function createContext(config: Config, logger: Logger, opts: { processName?: string; failFast?: boolean } = {}) {
  const target = redisTarget(config);
  if (!target) throw new Error('createContext needs REDIS_URL or REDIS_SENTINELS');
  // a serving process fails fast (503 within a second while Redis is away); tests and jobs may wait for it
  const failFast = opts.failFast ? { commandTimeoutMs: config.REDIS_COMMAND_TIMEOUT_MS } : undefined;
  const redis = defineScripts(createRedis(target, { name: 'ac-cmd', logger, failFast }));
  const keys = createKeys(config.REDIS_PREFIX);
  const sessionCache = createSessionCache({ redis, keys, ttlMs: config.SESSION_CACHE_MS });
  const users = createUserStore(redis, keys, sessionCache.changed);
  // the open count (integrity page, published ledger, representativeness): stores first, the identity
  // domain keeps the eligible base current on every profile change
  const openCount = createOpenCount({ redis, keys, config, logger });
  const sessions = createSessionStore(
    redis,
    keys,
    { idleSeconds: config.SESSION_IDLE_SECONDS, absoluteSeconds: config.SESSION_ABSOLUTE_SECONDS },
    sessionCache.changed,
  );
  // BullMQ producers: their own connection (queues must not share the fail-fast command connection)
  const queueRedis = createRedis(target, { name: 'ac-queue', logger, failFast, ...(failFast ? {} : { maxRetriesPerRequest: 2 }) });
  const queues = createQueues(queueRedis, config.REDIS_PREFIX);
  const metrics = createMetrics(opts.processName ?? 'server');
  // events to sockets on any server process (poll status, notifications, points), via Redis pub/sub
  const realtime = createRealtimeEmitter(redis, config.REDIS_PREFIX);

  // ---- domain stores and services (each domain adds its lines here) ----
  // identity: OTP sign-in (ctx.auth), profile and roles (ctx.accounts); the profile step keeps the eligible base current
  const { auth, accounts } = createIdentity({ config, logger, redis, keys, users, sessions, queues, residents: openCount.residents });
  // polls and ballots: definitions, lifecycle, the vote path, results, viewer reads
  // (staff views also carry the turnout's base: the registered residents a poll's audience takes in)
  const electorate = createElectorate({ residents: openCount.residents, users });
  const { polls, ballots, pollViews, closePolls } = createPollsDomain({ redis, keys, config, logger, queues, realtime, refusals: openCount.refusals, electorate });
  // the open count's reads and the finalise step's export (integrity page, published ledger, panel)
  const openCountService = openCount.service({ polls, ballots, views: pollViews });
  // points, rewards shop, finalisation alarms
  const points = createPointsService({ store: createPointsStore(redis, keys), realtime, logger });
  const rewards = createRewardService({ store: createRewardStore(redis, keys), points, logger });
  const integrity = createIntegrityStore(redis, keys);
  integrity.registerMetric(metrics.registry);
  // decisions + answer deadline, notifications (inbox, fan-out), archive and open data
  const decisionsDomain = createDecisionsDomain({ redis, keys, config, logger, queues, realtime, polls });
  const notificationsDomain = createNotificationsDomain({ redis, keys, config, logger, realtime, polls, ballots, decisionStore: decisionsDomain.decisionStore });
  // Our City (reports with a deadline): PostgreSQL is its system of record; null without DATABASE_URL
  const city = config.DATABASE_URL
    ? createCityDomain({ config, logger, redis, keys, queue: queues.city, realtime, users, points, notifications: notificationsDomain.notifications, metrics })
    : null;
  // the archive of finalised polls lives in the same PostgreSQL
  const archiveDomain = createArchiveDomain({
    polls, pollViews, ballots, decisions: decisionsDomain.decisions, db: city?.db ?? null, dbReady: () => city?.isReady() ?? false, redis, keys, logger, minGroup: config.RESULTS_MIN_GROUP_SIZE,
  });

  return {
    config,
    auth,
    accounts,
    logger,
    redis,
    keys,
    users,
    sessions,
    sessionCache,
    queues,
    metrics,
    realtime,
    polls,
    ballots,
    pollViews,
    /** Live results for sockets: the same access decision as HTTP. */
    live: createLiveService({ views: pollViews, ballots }),
    points,
    rewards,
    integrity,
    ...decisionsDomain,
    ...notificationsDomain,
    ...archiveDomain,
    city,
    residents: openCount.residents,
    openCount: openCountService,
    /** Workers alive = heartbeats newer than 15 s. */
    async workersAlive(): Promise<number> {
      return redis.zcount(keys.workers(), Date.now() - 15_000, '+inf');
    },
    async close() {
      await openCount.refusals.close().catch(() => {}); // the last invalid-ballot counts reach Redis
      await closePolls();
      await sessionCache.close();
      await city?.close();
      await queues.close();
      await closeRedis(queueRedis);
      await closeRedis(redis);
    },
  };
}
export type AppContext = ReturnType<typeof createContext>;
