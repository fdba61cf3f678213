/**
 * The fuzz suite's server process (tests/faults/fuzz.test.ts, started by tests/helpers/fuzz.ts): the same
 * assembly as `startServer` (server/main.ts) — context, Express app, HTTP server, Socket.IO — with config from
 * the environment the test passes and JSON log lines (warn and up) on stdout. The per-socket event limiter is
 * raised through `createRealtime`'s `rateLimit` option (it is not an env setting), so a fuzzing socket is
 * never throttled or disconnected and every event reaches its handler's validation. SIGTERM closes it.
 */
import { createServer } from 'node:http';
import { pino } from 'pino';
import { loadConfig } from '../../server/config.ts';
import type { Logger } from '../../server/logger.ts';
import { createContext } from '../../server/context.ts';
import { createApp } from '../../server/app.ts';
import { createRealtime } from '../../server/realtime/io.ts';

const config = loadConfig(process.env);
const logger = pino({ name: 'fuzz-server', level: config.LOG_LEVEL }) as unknown as Logger;
const ctx = createContext(config, logger, { processName: 'server' });
// Our City's schema (with DATABASE_URL): migrated and seeded before the first request, as startServer does
if (ctx.city) await ctx.city.init();
const app = createApp(ctx, { web: null });
const httpServer = createServer({ keepAliveTimeout: 65_000, headersTimeout: 20_000, requestTimeout: 30_000 }, app);
const realtime = createRealtime(httpServer, ctx, { rateLimit: { ratePerSec: 1e9, burst: 1e9, maxRejected: 1e9 } });
await new Promise<void>((res, rej) => {
  httpServer.once('error', rej);
  httpServer.listen(config.PORT, config.HOST, () => res());
});
const port = (httpServer.address() as { port: number }).port;
logger.warn({ port }, `fuzz server listening on ${port}`);

process.once('SIGTERM', () => {
  void (async () => {
    const closed = new Promise<void>((r) => httpServer.close(() => r()));
    httpServer.closeIdleConnections();
    await realtime.close();
    httpServer.closeAllConnections();
    await closed;
    await ctx.close();
  })().then(
    () => process.exit(0),
    () => process.exit(1),
  );
});
