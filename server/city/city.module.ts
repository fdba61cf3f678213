import { join } from 'node:path';
import type { Queue } from 'bullmq';
import type { Config } from '../config.ts';
import type { Logger } from '../logger.ts';
import type { Metrics } from '../metrics.ts';
import type { Redis } from '../redis/connection.ts';
import type { Keys } from '../redis/keys.ts';
import type { RealtimeEmitter } from '../realtime/emitter.ts';
import type { UserStore } from '../users/user.store.ts';
import type { PointsService } from '../points/points.service.ts';
import type { NotificationService } from '../notifications/notification.service.ts';
import { createDb } from '../db/db.ts';
import { migrateToLatest } from '../db/migrate.ts';
import { createCalendar } from '../decisions/working-days.ts';
import { createRateLimiter } from '../redis/rate-limiter.ts';
import { seedCatalogue } from './catalogue.seed.ts';
import { createCatalogueStore } from './catalogue.store.ts';
import { createReportStore } from './report.store.ts';
import { createReportSteps } from './report.steps.ts';
import { createDiskPhotoStorage } from './photo.storage.ts';
import { createCityNotifier } from './city.notify.ts';
import { createReportService } from './report.service.ts';
import { createCityJobs } from './city.jobs.ts';
import { createBoardStore } from './board.store.ts';

/** Where photos are served from (the API path; names are content hashes). */
export const PHOTO_BASE = '/api/city/photos';

/**
 * Our City in one place: the PostgreSQL pool, catalogue, reports, photos, notifications, jobs. Built
 * only with DATABASE_URL (context.ts holds null otherwise and the routes answer 503). `init()` migrates
 * and seeds; until it has succeeded the routes answer 503 too, and it retries while the database is down.
 */
export function createCityDomain(deps: {
  config: Config;
  logger: Logger;
  redis: Redis;
  keys: Keys;
  queue: Queue;
  realtime: RealtimeEmitter;
  users: UserStore;
  points: PointsService;
  notifications: NotificationService;
  metrics: Metrics;
}) {
  const { config, logger } = deps;
  const log = logger.child({ domain: 'city' });
  const { db, pool } = createDb(config.DATABASE_URL!, { max: config.DATABASE_POOL_MAX, connectTimeoutMs: config.DATABASE_CONNECT_TIMEOUT_MS, logger: log });
  const calendar = createCalendar({ extraHolidays: config.PUBLIC_HOLIDAYS, extraWorkingWeekends: config.WORKING_WEEKENDS, utcOffsetMinutes: config.CITY_UTC_OFFSET_MINUTES });
  const catalogue = createCatalogueStore(db);
  const reports = createReportStore(db, { photoBase: PHOTO_BASE, calendar });
  const steps = createReportSteps(db, { calendar });
  const storage = createDiskPhotoStorage(config.PHOTO_DIR ?? join(config.DATA_DIR, 'photos'));
  const notify = createCityNotifier({ realtime: deps.realtime, notifications: deps.notifications, reports, catalogue, users: deps.users, metrics: deps.metrics, logger });
  const dailyLimit = createRateLimiter(deps.redis, deps.keys, { name: 'city-reports', limit: config.CITY_REPORTS_PER_DAY, windowSeconds: 86_400 });
  const service = createReportService({ steps, reports, catalogue, storage, notify, queue: deps.queue, points: deps.points, users: deps.users, dailyLimit, logger });
  const jobs = createCityJobs({ db, steps, reports, notify, service, storage, metrics: deps.metrics, logger });
  const board = createBoardStore(db);

  let ready = false;
  let closed = false;
  let initing: Promise<void> | null = null;
  const init = () =>
    (initing ??= (async () => {
      for (let attempt = 1; !closed; attempt++) {
        try {
          const applied = await migrateToLatest(db, { cityUtcOffsetMinutes: config.CITY_UTC_OFFSET_MINUTES, calendar });
          const seeded = await seedCatalogue(db);
          if (applied.length || seeded.categories || seeded.organisations) log.info({ migrations: applied, seeded }, 'city database ready');
          ready = true;
          return;
        } catch (err) {
          if (attempt === 1 || attempt % 12 === 0) log.error({ err }, 'city database not ready (Our City answers 503 until it is); retrying');
          await new Promise((r) => setTimeout(r, 5_000).unref());
        }
      }
    })());

  return {
    db,
    catalogue,
    reports,
    steps,
    storage,
    service,
    jobs,
    board,
    calendar,
    isReady: () => ready,
    init,
    async close() {
      closed = true;
      await db.destroy().catch(() => {});
      void pool;
    },
  };
}
export type CityDomain = ReturnType<typeof createCityDomain>;
