import { createServer, type Server as HttpServer } from 'node:http';
import type { Config } from './config.ts';
import { configOrExit, runMain, stopOnSignals } from './process-entry.ts';
import { createLogger, type Logger } from './logger.ts';
import { createContext, type AppContext } from './context.ts';
import { followSupervisor } from './supervised.ts';
import { createApp } from './app.ts';
import { createRealtime, type IoServer, type Realtime } from './realtime/io.ts';
import { loadWebHandler } from './web-handler.ts';
import { createBallotRoute } from './ballots/ballot.http.ts';
import { isClusterPrimary, leaveCluster, runPrimary, serverProcesses } from './cluster.ts';

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
  let realtime: Realtime | null = null;
  const app = createApp(ctx, { web, isShuttingDown: () => shuttingDown, sockets: () => realtime?.io.engine.clientsCount ?? 0 });
  // the ballot route first, without Express (server/ballots/ballot.http.ts); everything else to the app
  const ballotRoute = createBallotRoute(ctx);
  const httpServer = createServer({ keepAliveTimeout: 65_000, headersTimeout: 20_000, requestTimeout: 30_000 }, (req, res) => {
    if (!ballotRoute(req, res)) app(req, res);
  });
  realtime = createRealtime(httpServer, ctx);
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
      await realtime!.close(); // stops the live ticker, closes io (and its adapter subscriber)
      // 2. drain in-flight requests (bounded)
      const timer = setTimeout(() => httpServer.closeAllConnections(), config.SHUTDOWN_TIMEOUT_MS);
      timer.unref();
      await httpClosed;
      clearTimeout(timer);
      // 3. then Redis
      await ctx.close();
    })());

  return { ctx, httpServer, io, realtime: realtime!, port, close };
}

async function main() {
  const config = configOrExit('active-citizen server', ' (use `npm start`, which starts a private redis-server, or set one)');
  const logger = createLogger({ name: 'server', level: config.LOG_LEVEL, pretty: config.LOG_PRETTY });
  const processes = serverProcesses(config);
  if (processes > 1 && isClusterPrimary()) return runPrimary(config, logger, processes);
  const server = await startServer(config, logger);
  logger.info({ port: server.port, host: config.HOST }, `server listening on http://localhost:${server.port}`);

  const shutdown = stopOnSignals(logger, {
    label: 'server',
    timeoutMs: config.SHUTDOWN_TIMEOUT_MS,
    stop: async () => {
      await server.close();
      logger.info('server stopped');
      leaveCluster();
      logger.flush?.();
    },
  });
  followSupervisor({
    onRestarts: (counts) => {
      for (const [child, n] of Object.entries(counts)) server.ctx.metrics.supervisedRestarts.set({ child }, n);
    },
    onGone: () => shutdown('supervisor gone'),
  });
}

if (import.meta.main) runMain('active-citizen server', main);
