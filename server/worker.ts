import { Worker } from 'bullmq';
import { randomUUID } from 'node:crypto';
import type { Config } from './config.ts';
import { configOrExit, runMain, stopOnSignals } from './process-entry.ts';
import { createLogger, type Logger } from './logger.ts';
import { createRedis, closeRedis, redisTarget } from './redis/connection.ts';
import { followSupervisor } from './supervised.ts';
import { queuePrefix } from './redis/keys.ts';
import { QUEUE_NAMES, defaultJobOptions } from './jobs/queues.ts';
import { createProcessors } from './jobs/processors.ts';
import { createContext } from './context.ts';
import { pointsHandlers } from './points/points.jobs.ts';
import { awardBatchHandlers } from './ballots/award-batch.jobs.ts';
import { enqueueFinalise, lifecycleHandlers } from './polls/lifecycle.jobs.ts';
import { notificationHandlers } from './notifications/notifications.module.ts';
import { AWARD_SWEEP_SCHEDULER_ID, RECONCILE_SCHEDULER_ID, CITY_SWEEP_SCHEDULER_ID, ARCHIVE_SWEEP_SCHEDULER_ID } from '../shared/jobs.ts';

export type RunningWorker = { id: string; workers: Worker[]; close: () => Promise<void> };

/** Start one BullMQ Worker per queue, plus a heartbeat /readyz reads. */
export async function startWorkers(config: Config, logger: Logger, opts: { concurrency?: number } = {}): Promise<RunningWorker> {
  const ctx = createContext(config, logger, { processName: 'worker' });
  const id = randomUUID();
  const processors = createProcessors(
    {
      points: { ...pointsHandlers({ ...ctx, reconcileAfterMs: config.REDEMPTION_RECONCILE_AFTER_MS }), ...awardBatchHandlers({ ...ctx, batchSize: config.AWARD_BATCH_SIZE, finaliseClosed: (pollId) => enqueueFinalise(ctx.queues, pollId) }) },
      lifecycle: lifecycleHandlers(ctx),
      notifications: notificationHandlers(ctx),
      // without DATABASE_URL there is no Our City: its jobs fail for good as unknown
      city: ctx.city?.jobs.handlers ?? {},
    },
    logger,
  );
  const prefix = queuePrefix(config.REDIS_PREFIX);
  const connections = QUEUE_NAMES.map((q) => createRedis(redisTarget(config)!, { name: `ac-worker-${q}`, logger, blocking: true }));
  const workers = QUEUE_NAMES.map((name, i) => {
    const w = new Worker(name, processors[name], {
      connection: connections[i],
      prefix,
      concurrency: opts.concurrency ?? config.WORKER_CONCURRENCY,
      autorun: true,
      // a killed worker's active jobs re-run once their lock lapses and a stalled check sees it
      stalledInterval: config.WORKER_STALLED_INTERVAL_MS,
      lockDuration: Math.max(2 * config.WORKER_STALLED_INTERVAL_MS, 2_000),
      maxStalledCount: 3,
    });
    const log = logger.child({ queue: name });
    w.on('failed', (job, err) => log.warn({ jobId: job?.id, attempt: job?.attemptsMade, err }, 'job failed'));
    w.on('error', (err) => log.warn({ err }, 'worker error'));
    return w;
  });
  await Promise.all(workers.map((w) => w.waitUntilReady()));

  await checkEviction(ctx.redis, logger);
  // the eligible base counts of users that predate them: recounted once per deployment, in the background
  void ctx.residents.buildOnce().catch((err: Error) => logger.warn({ err }, 'resident cells rebuild failed'));
  // the repeatable reconciler of half-done redemptions (upsert: one schedule however many workers).
  // A numeric keep-count would trim the points queue's WHOLE completed/failed set on every run (BullMQ
  // applies it per set, not per job name): `true` removes only the run itself.
  await ctx.queues.points.upsertJobScheduler(
    RECONCILE_SCHEDULER_ID,
    { every: Math.max(5_000, Math.floor(config.REDEMPTION_RECONCILE_AFTER_MS / 2)) },
    { name: 'reconcile-redemptions', data: {}, opts: { removeOnComplete: true, removeOnFail: defaultJobOptions.removeOnFail } },
  );
  // the safety net of the vote award batches (server/ballots/award-batch.jobs.ts), scheduled the same way
  await ctx.queues.points.upsertJobScheduler(
    AWARD_SWEEP_SCHEDULER_ID,
    { every: config.AWARD_SWEEP_EVERY_MS },
    { name: 'award-sweep', data: {}, opts: { removeOnComplete: true, removeOnFail: defaultJobOptions.removeOnFail } },
  );

  if (ctx.city) {
    await Promise.race([ctx.city.init(), new Promise((r) => setTimeout(r, 15_000).unref())]);
    // finalised polls that could not reach the PostgreSQL archive when they were finalised
    await ctx.queues.lifecycle.upsertJobScheduler(
      ARCHIVE_SWEEP_SCHEDULER_ID,
      { every: config.ARCHIVE_SWEEP_MS },
      { name: 'archive-sweep', data: {}, opts: { removeOnComplete: true, removeOnFail: defaultJobOptions.removeOnFail } },
    );
    // Our City's safety net: escalations and reminders whose delayed job never got queued, verdicts past due, points of
    // confirmed reports not yet credited, photo files of interrupted submits
    await ctx.queues.city.upsertJobScheduler(
      CITY_SWEEP_SCHEDULER_ID,
      { every: config.CITY_SWEEP_MS },
      { name: 'sweep', data: {}, opts: { removeOnComplete: true, removeOnFail: defaultJobOptions.removeOnFail } },
    );
  }

  const beat = async () => {
    try {
      await ctx.redis.zadd(ctx.keys.workers(), Date.now(), id);
    } catch {
      /* redis down: /readyz will say so */
    }
  };
  await beat();
  const heartbeat = setInterval(beat, 5_000);
  heartbeat.unref();

  let closing: Promise<void> | null = null;
  return {
    id,
    workers,
    close: () =>
      (closing ??= (async () => {
        clearInterval(heartbeat);
        // worker.close() waits for the jobs in progress to finish
        await Promise.all(workers.map((w) => w.close()));
        // not fatal: a missed removal only leaves a heartbeat that goes stale in 15 s
        await ctx.redis.zrem(ctx.keys.workers(), id).catch((err) => logger.warn({ err }, 'could not remove the worker heartbeat'));
        await Promise.all(connections.map((c) => closeRedis(c)));
        await ctx.close();
      })()),
  };
}

/** BullMQ needs `noeviction`: an evicted job key is a lost job. */
async function checkEviction(redis: import('ioredis').Redis, logger: Logger) {
  try {
    const [, policy] = (await redis.config('GET', 'maxmemory-policy')) as [string, string];
    if (policy !== 'noeviction') {
      logger.warn(`REDIS maxmemory-policy is "${policy}", not "noeviction": queued jobs and ballots can be EVICTED. Set maxmemory-policy noeviction.`);
    }
  } catch {
    logger.warn('could not read maxmemory-policy (CONFIG disabled?): make sure it is noeviction');
  }
}

async function main() {
  const config = configOrExit('active-citizen worker');
  const logger = createLogger({ name: 'worker', level: config.LOG_LEVEL, pretty: config.LOG_PRETTY });
  // The BullMQ workers take jobs as soon as they are constructed, before startWorkers resolves: the
  // signal handlers go in first, so a SIGTERM during start-up still drains the jobs in hand.
  const starting = startWorkers(config, logger);
  const shutdown = stopOnSignals(logger, {
    label: 'worker',
    timeoutMs: config.SHUTDOWN_TIMEOUT_MS,
    stop: async () => {
      await (await starting).close();
      logger.info('worker stopped');
    },
  });
  followSupervisor({ onGone: () => shutdown('supervisor gone') });
  const running = await starting;
  logger.info({ queues: QUEUE_NAMES, id: running.id }, 'workers started');
}

if (import.meta.main) runMain('active-citizen worker', main);
