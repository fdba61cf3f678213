import { createServer, type Server as HttpServer } from 'node:http';
import { loadConfig, ConfigError, type Config } from './config.ts';
import { createLogger, type Logger } from './logger.ts';
import { createContext, type AppContext } from './context.ts';
import { redisTarget } from './redis/connection.ts';
import { followSupervisor } from './supervised.ts';
import { createApp } from './app.ts';
import { createRealtime, type IoServer, type Realtime } from './realtime/io.ts';
import { loadWebHandler } from './web-handler.ts';

export type RunningServer = {
  ctx: AppContext;
  httpServer: HttpServer;
  io: IoServer;
  /** Socket.IO + Redis adapter + live-results broadcaster (server/realtime/io.ts). */
  realtime: Realtime;
  port: number;
  close: () => Promise<void>;
};

/** Build and listen. Used by the process entry below and by tests that need a real server in-process. */
export async function startServer(config: Config, logger: Logger, opts: { web?: boolean } = {}): Promise<RunningServer> {
  const ctx = createContext(config, logger, { processName: 'server', failFast: true });
  // Our City's schema: migrate + seed before serving (bounded: with the database down the server still
  // starts, polls work, Our City answers 503 and init keeps retrying in the background)
  if (ctx.city) await Promise.race([ctx.city.init(), new Promise((r) => setTimeout(r, 15_000).unref())]);
  let shuttingDown = false;
  const web = opts.web === false ? null : await loadWebHandler();
  if (!web && opts.web !== false) logger.warn('web app not built (web/build missing): only /api is served');
  const app = createApp(ctx, { web, isShuttingDown: () => shuttingDown });
  const httpServer = createServer({ keepAliveTimeout: 65_000, headersTimeout: 20_000, requestTimeout: 30_000 }, app);
  const realtime = createRealtime(httpServer, ctx);
  const io = realtime.io;
  await new Promise<void>((res, rej) => {
    httpServer.once('error', rej);
    httpServer.listen(config.PORT, config.HOST, () => res());
  });
  const addr = httpServer.address();
  const port = typeof addr === 'object' && addr ? addr.port : config.PORT;

  let closing: Promise<void> | null = null;
  const close = () =>
    (closing ??= (async () => {
      shuttingDown = true;
      // 1. stop intake: no new connections; sockets told to go (they reconnect elsewhere)
      const httpClosed = new Promise<void>((res) => httpServer.close(() => res()));
      httpServer.closeIdleConnections();
      await realtime.close(); // stops the live ticker, closes io (and its adapter subscriber)
      // 2. drain in-flight requests (bounded)
      const timer = setTimeout(() => httpServer.closeAllConnections(), config.SHUTDOWN_TIMEOUT_MS);
      timer.unref();
      await httpClosed;
      clearTimeout(timer);
      // 3. then Redis
      await ctx.close();
    })());

  return { ctx, httpServer, io, realtime, port, close };
}

async function main() {
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`active-citizen server: ${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  if (!redisTarget(config)) {
    process.stderr.write('active-citizen server: neither REDIS_URL nor REDIS_SENTINELS is set (use `npm start`, which starts a private redis-server, or set one)\n');
    process.exit(1);
  }
  const logger = createLogger({ name: 'server', level: config.LOG_LEVEL, pretty: config.LOG_PRETTY });
  const server = await startServer(config, logger);
  logger.info({ port: server.port, host: config.HOST }, `server listening on http://localhost:${server.port}`);

  let down = false;
  const shutdown = async (signal: string) => {
    if (down) return;
    down = true;
    logger.info({ signal }, 'shutting down');
    const force = setTimeout(() => {
      logger.error('shutdown timed out, exiting');
      process.exit(1);
    }, config.SHUTDOWN_TIMEOUT_MS + 5_000);
    force.unref();
    await server.close();
    logger.info('server stopped');
    logger.flush?.();
    process.exitCode = 0;
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));
  followSupervisor({
    onRestarts: (counts) => {
      for (const [child, n] of Object.entries(counts)) server.ctx.metrics.supervisedRestarts.set({ child }, n);
    },
    onGone: () => void shutdown('supervisor gone'),
  });
}

if (import.meta.main) {
  main().catch((err) => {
    process.stderr.write(`active-citizen server: failed to start: ${(err as Error).message}\n`);
    process.exit(1);
  });
}
