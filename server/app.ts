import { sql } from 'kysely';
import express, { type Express, type RequestHandler } from 'express';
import { randomUUID } from 'node:crypto';
import type { AppContext } from './context.ts';
import { errorMiddleware, apiNotFound, AppError } from './errors.ts';
import { authenticate } from './auth/auth.middleware.ts';
import { originCheck } from './http/origin.middleware.ts';
import { rejectDeepJson } from './json-depth.ts';
import { authRoutes } from './auth/auth.routes.ts';
import { meRoutes, districtRoutes } from './users/me.routes.ts';
import { usersRoutes } from './users/users.routes.ts';
import { pointsRouter } from './points/points.routes.ts';
import { rewardsRouter } from './rewards/reward.routes.ts';
import { queueBoard, BOARD_PATH } from './jobs/board.ts';
import { pollsRoutes } from './polls/polls.module.ts';
import { decisionsRoutes } from './decisions/decisions.module.ts';
import { notificationsRoutes } from './notifications/notifications.module.ts';
import { archiveDomainRoutes } from './archive/archive.module.ts';
import { openApiRoutes } from './openapi/openapi.routes.ts';
import { cityRoutes, isCityMultipart } from './city/city.routes.ts';
import { open311Routes } from './city/open311.routes.ts';
import { integrityRoutes } from './integrity/integrity.routes.ts';

export type WebHandler = RequestHandler | null;

/**
 * Assembles the Express app: health, metrics, the JSON API under /api, and the SvelteKit
 * handler for every other path. Never listens (main.ts does).
 */
export function createApp(ctx: AppContext, opts: { web?: WebHandler; isShuttingDown?: () => boolean; sockets?: () => number } = {}): Express {
  const { config, logger, metrics } = ctx;
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', config.TRUST_PROXY);
  app.set('query parser', 'simple');

  app.use((req, res, next) => {
    req.id = (typeof req.headers['x-request-id'] === 'string' && /^[\w-]{1,64}$/.test(req.headers['x-request-id'])
      ? req.headers['x-request-id']
      : randomUUID());
    req.log = logger.child({ reqId: req.id });
    const start = process.hrtime.bigint();
    res.on('finish', () => {
      const route = req.route?.path ? `${req.baseUrl}${req.route.path}` : req.path.startsWith('/api') ? 'api:unmatched' : 'web';
      const secs = Number(process.hrtime.bigint() - start) / 1e9;
      metrics.httpRequests.inc({ method: req.method, route, status: `${Math.floor(res.statusCode / 100)}xx` });
      metrics.httpDuration.observe({ method: req.method, route }, secs);
      if (res.statusCode >= 500) req.log?.warn({ status: res.statusCode, method: req.method, url: req.originalUrl }, 'request');
      else req.log?.debug({ status: res.statusCode, method: req.method, url: req.originalUrl, ms: secs * 1000 }, 'request');
    });
    next();
  });

  app.get('/healthz', (_req, res) => {
    // pid and sockets: which of the SERVER_PROCESSES answered, and how many sockets it holds
    res.json({ status: 'ok', uptime: process.uptime(), pid: process.pid, sockets: opts.sockets?.() ?? 0 });
  });

  app.get('/readyz', async (_req, res) => {
    const checks: Record<string, string> = {};
    let ok = !opts.isShuttingDown?.();
    if (!ok) checks.server = 'shutting down';
    try {
      await Promise.race([ctx.redis.ping(), new Promise((_, rej) => setTimeout(() => rej(new Error('timeout')), 1000).unref())]);
      checks.redis = 'ok';
      const workers = await ctx.workersAlive();
      checks.workers = workers > 0 ? `ok (${workers})` : 'none connected';
      if (workers === 0) ok = false;
    } catch (err) {
      // names the dependency that is down; the connection reconnects by itself (no one needs to act)
      checks.redis = `unreachable (connection ${ctx.redis.status}): ${(err as Error).message}`;
      ok = false;
    }
    // PostgreSQL (Our City, the archive) is named but does not fail readiness: voting and live results need
    // only Redis, and a balancer that dropped every server while the database is down would stop the polls too
    if (ctx.city) checks.postgres = await postgresCheck(ctx.city);
    res.status(ok ? 200 : 503).json({ status: ok ? 'ready' : 'not ready', checks });
  });

  app.get('/metrics', async (_req, res) => {
    res.set('content-type', metrics.registry.contentType).send(await metrics.registry.metrics());
  });

  const api = express.Router();
  api.use((_req, res, next) => {
    res.set('cache-control', 'no-store');
    next();
  });
  api.use(express.json({ limit: '64kb', strict: true, type: ['application/json', 'application/*+json'] }), rejectDeepJson());
  api.use((req, _res, next) => {
    // A body on a state-changing request must be JSON (no form posts into a JSON API).
    // (Our City's report and answer uploads are multipart/form-data: their routes parse and bound it.)
    if (!['GET', 'HEAD', 'OPTIONS', 'DELETE'].includes(req.method) && Number(req.headers['content-length'] ?? 0) > 0 && !req.is(['application/json', 'application/*+json']) && !isCityMultipart(req)) {
      return next(new AppError('unsupported_media_type', 'Send the body as application/json'));
    }
    next();
  });
  api.use(originCheck(config.ALLOWED_ORIGINS));
  api.use(authenticate(ctx));

  // ---- domain routers (each domain adds its line here) ----
  api.use(authRoutes(ctx), meRoutes(ctx), usersRoutes(ctx), districtRoutes());
  api.use(pollsRoutes(ctx));
  api.use(pointsRouter(ctx.points));
  api.use(rewardsRouter(ctx.rewards));
  api.use(decisionsRoutes(ctx), notificationsRoutes(ctx), archiveDomainRoutes(ctx));
  api.use(cityRoutes(ctx));
  api.use(openApiRoutes({ version: '0.1.0' }));
  api.use(integrityRoutes(ctx.openCount));

  api.use(apiNotFound);
  app.use('/api', api);

  // Open311 GeoReport v2 (the 311 ecosystem's convention), beside the platform's own API
  app.use('/open311/v2', open311Routes(ctx));

  // bull-board (admins only), outside /api and before the web handler
  app.use(BOARD_PATH, queueBoard(ctx));

  if (opts.web) {
    app.use(opts.web);
  } else {
    app.use((req, res) => {
      res
        .status(503)
        .type('text/plain')
        .send('The web app is not built. Run `npm run build` (npm start does it for you).');
    });
  }

  app.use(errorMiddleware(logger));
  return app;
}

/** `ok`, or why Our City's database cannot serve now (not migrated yet, or unreachable within 1 s). */
async function postgresCheck(city: NonNullable<AppContext['city']>): Promise<string> {
  if (!city.isReady()) return 'not ready (migrating or unreachable: Our City answers 503)';
  try {
    await Promise.race([sql`select 1`.execute(city.db), new Promise((_, rej) => setTimeout(() => rej(new Error('timeout')), 1000).unref())]);
    return 'ok';
  } catch (err) {
    return `unreachable: ${(err as Error).message} (Our City answers 503)`;
  }
}
