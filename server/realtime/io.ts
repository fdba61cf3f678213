import { Server, type Socket } from 'socket.io';
import type { Server as HttpServer } from 'node:http';
import type { z } from 'zod';
import type { Config } from '../config.ts';
import type { Logger } from '../logger.ts';
import type { Metrics } from '../metrics.ts';
import type { Redis } from '../redis/connection.ts';
import type { SessionStore } from '../auth/session.store.ts';
import type { SessionCache } from '../auth/session-cache.ts';
import type { UserStore } from '../users/user.store.ts';
import type { Ack } from '../../shared/errors.ts';
import { pollWatchPayload, type ClientToServerEvents, type ServerToClientEvents, type SocketData, type WatchAckData } from '../../shared/socket.ts';
import { resolveSession, resolveSessionId } from '../auth/auth.middleware.ts';
import { isAllowedOrigin } from '../http/origin.middleware.ts';
import { AppError, ackError, parseOr } from '../errors.ts';
import { createRedis, closeRedis, redisTarget } from '../redis/connection.ts';
import { registerCitySocket } from '../city/city.socket.ts';
import type { CityDomain } from '../city/city.module.ts';
import { rooms } from './emitter.ts';
import { createBroadcaster, type Broadcaster } from './broadcaster.ts';
import type { LiveService } from './live.service.ts';
import { RecoveringRedisAdapter } from './recovering-adapter.ts';
import { serverProcesses } from '../cluster.ts';
import { createSocketLimiter, SOCKET_RATE_LIMIT, type SocketRateLimit } from './rate-limit.ts';
import { createSessionSync, type SessionSync } from './session-sync.ts';

export type IoServer = Server<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>;
type IoSocket = Socket<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>;

/** Polls one socket may watch at once (each is two rooms). */
export const MAX_WATCHED_POLLS = 20;
const RECOVERY_MS = 2 * 60_000;

export type Realtime = {
  io: IoServer;
  broadcaster: Broadcaster;
  /** Stop the ticker, close Socket.IO (and the HTTP server with it), then the adapter's subscriber. */
  close: () => Promise<void>;
};

/**
 * Socket.IO on the API's HTTP server: Origin allowlist at the handshake, the same session cookie as
 * the API (anonymous sockets may watch public results but never act), small buffers, a per-socket event
 * rate limit, the Redis adapter (same key as ctx.realtime's emitter, so status/notification/points events
 * from any process reach sockets on every process) and the per-process live-results broadcaster.
 *
 * Connection state recovery (per process, RecoveringRedisAdapter): a socket that reconnects to the same
 * process within RECOVERY_MS gets its rooms back, the missed status/notification/points events, and a
 * fresh tally snapshot per watched poll (tallies themselves are not replayed). Otherwise
 * `socket.recovered === false` and the client re-sends `poll:watch` (a full snapshot in the ack).
 */
export type RealtimeDeps = {
  config: Pick<Config, 'REDIS_URL' | 'REDIS_SENTINELS' | 'REDIS_SENTINEL_NAME' | 'REDIS_PREFIX' | 'ALLOWED_ORIGINS' | 'TICK_MS' | 'SERVER_PROCESSES'>;
  logger: Logger;
  metrics: Pick<Metrics, 'registry' | 'socketsConnected'>;
  /** The command connection (the adapter publishes on it). */
  redis: Redis;
  sessions: SessionStore;
  users: UserStore;
  /** Its change messages keep open sockets' users current (session-sync.ts). */
  sessionCache: Pick<SessionCache, 'onChange'>;
  live: LiveService;
  /** Our City (null without a database): its socket events. */
  city: CityDomain | null;
};

export function createRealtime(httpServer: HttpServer, deps: RealtimeDeps, opts: { rateLimit?: SocketRateLimit; tickMs?: number } = {}): Realtime {
  const { config, logger, metrics, live } = deps;
  const sub = createRedis(redisTarget(config)!, { name: 'ac-io-sub', logger, blocking: true });
  const io: IoServer = new Server(httpServer, {
    maxHttpBufferSize: 16 * 1024,
    serveClient: false,
    // memory per socket: no compression state (frames are small JSON; per-message deflate keeps a zlib
    // context per socket), and no gzip of polling responses
    perMessageDeflate: false,
    httpCompression: false,
    pingInterval: 20_000,
    pingTimeout: 20_000,
    connectionStateRecovery: { maxDisconnectionDuration: RECOVERY_MS, skipMiddlewares: false },
    // several processes on one port: a long-polling client's requests could land on different ones
    ...(serverProcesses(config) > 1 ? { transports: ['websocket' as const] } : {}),
    // Socket.IO calls `new adapter(nsp)`: a plain function returning the instance (not an arrow)
    adapter: function (nsp: unknown) {
      return new RecoveringRedisAdapter(nsp, deps.redis, sub, {
        key: `${config.REDIS_PREFIX}socket.io`,
        maxDisconnectionDuration: RECOVERY_MS,
        unrecorded: new Set(['poll:tally', 'poll:participants']),
      });
    } as never,
    allowRequest: (req, cb) => {
      const origin = req.headers.origin;
      // Browsers always send Origin on a WebSocket/XHR handshake; non-browser clients may omit it.
      if (origin && !isAllowedOrigin(config.ALLOWED_ORIGINS, origin)) return cb('origin not allowed', false);
      cb(null, true);
    },
  });

  const broadcaster = createBroadcaster({
    io,
    source: { versions: live.versions, results: live.results },
    tickMs: opts.tickMs ?? config.TICK_MS,
    logger,
    registry: metrics.registry,
  });
  broadcaster.start();
  const sync = createSessionSync({ nsp: io.of('/') as never, sessionCache: deps.sessionCache, resolve: (sid) => resolveSessionId({ sessions: deps.sessions }, sid), live, broadcaster, logger });

  /** Recovered sockets whose user is not the one their restored rooms were joined as. */
  const userChanged = new WeakSet<object>();
  io.use(async (socket, next) => {
    try {
      const r = await resolveSession({ sessions: deps.sessions, users: deps.users }, socket.handshake.headers.cookie);
      // a recovered socket arrives with the data it had at the drop: its user then
      if (socket.recovered && JSON.stringify(socket.data.user ?? null) !== JSON.stringify(r?.user ?? null)) userChanged.add(socket);
      socket.data.user = r?.user ?? null;
      socket.data.sid = r?.sessionId;
      next();
    } catch (err) {
      logger.warn({ err }, 'socket auth failed');
      next(new Error('unavailable'));
    }
  });

  const limit = opts.rateLimit ?? SOCKET_RATE_LIMIT;

  io.on('connection', (socket) => {
    // the user at connect; handlers read socket.data.user, which session-sync.ts replaces when the user's
    // roles, profile or sessions change
    const user = socket.data.user;
    // the handshake (headers, address) is built by now: the upgrade request itself is not kept per socket
    (socket.conn as unknown as { request: unknown }).request = undefined;
    // a child logger only when there is something to log (it would cost memory on every socket)
    let child: Logger | null = null;
    const childLog = () => (child ??= logger.child({ socketId: socket.id, userId: user?.id ?? null }));
    const log = { warn: (obj: object, msg: string) => childLog().warn(obj, msg), error: (obj: object, msg: string) => childLog().error(obj, msg) } as Logger;
    metrics.socketsConnected.inc();
    socket.on('disconnect', () => metrics.socketsConnected.dec());
    if (user) void socket.join(rooms.user(user.id));

    const limiter = createSocketLimiter(limit);
    socket.use((packet, next) => {
      if (limiter.allow()) return next();
      const ack = packet[packet.length - 1];
      if (typeof ack === 'function') ack(ackError(new AppError('rate_limited', 'Too many events; slow down')));
      if (limiter.rejected() === 1) log.warn({ event: String(packet[0]) }, 'socket over its event rate limit');
      if (limiter.shouldDisconnect()) {
        log.warn({ rejected: limiter.rejected() }, 'socket kept flooding: disconnected');
        socket.disconnect(true);
      }
    });

    socket.emit('session', { userId: user?.id ?? null, roles: user?.roles ?? [] });
    if (socket.recovered) void recovered(socket, userChanged.has(socket) ? sync : null, live, broadcaster, log);

    socket.on('ping:server', (ack) => {
      if (typeof ack === 'function') ack({ ok: true, data: { at: Date.now() } });
    });

    handle(socket, 'poll:watch', pollWatchPayload, log, async ({ pollId }): Promise<WatchAckData> => {
      const access = await live.access(pollId, socket.data.user);
      if (!socket.rooms.has(rooms.poll(pollId)) && watchedBy(socket) >= MAX_WATCHED_POLLS) {
        throw new AppError('rate_limited', `Watch at most ${MAX_WATCHED_POLLS} polls at once`);
      }
      if (!socket.connected) throw new AppError('conflict', 'Socket disconnected');
      // join first, then read: a vote landing in between is caught by the next tick
      void socket.join(rooms.poll(pollId));
      if (access.canSeeResults) void socket.join(rooms.pollTally(pollId));
      else void socket.leave(rooms.pollTally(pollId));
      const snapshot = await live.snapshot(pollId);
      broadcaster.track(pollId, snapshot.results.version);
      return {
        pollId,
        status: access.status,
        canSeeResults: access.canSeeResults,
        snapshot: access.canSeeResults ? snapshot : null,
        participants: snapshot.participants,
        withheld: access.withheld,
        eligibleResidents: access.eligibleResidents,
      };
    });

    handle(socket, 'poll:unwatch', pollWatchPayload, log, async ({ pollId }) => {
      void socket.leave(rooms.pollTally(pollId));
      void socket.leave(rooms.poll(pollId));
      return { pollId };
    });

    registerCitySocket(socket, deps.city, (event, schema, fn) => handle(socket, event, schema, log, fn));
  });

  let closing: Promise<void> | null = null;
  return {
    io,
    broadcaster,
    close: () =>
      (closing ??= (async () => {
        sync.close();
        await broadcaster.stop();
        // io.close() rejects only when the HTTP server was already closed, which is the state wanted here
        await io.close().catch(() => {});
        await closeRedis(sub);
      })()),
  };
}

/**
 * A recovered socket has its rooms back as they were at the drop. When its user changed meanwhile (roles,
 * profile, sign-out: `sync` given), first put them in line with the user its handshake just read (that
 * failing: close it again, fail closed); then one fresh frame per watched poll (it missed the tally frames).
 */
async function recovered(socket: IoSocket, sync: SessionSync | null, live: LiveService, broadcaster: Broadcaster, log: Logger) {
  try {
    await sync?.recheckRooms(socket);
  } catch (err) {
    log.warn({ err }, 'rooms of a recovered socket could not be re-checked: closing its transport');
    socket.conn.close();
    return;
  }
  await resendSnapshots(socket, live, broadcaster, log);
}

/** One fresh frame per watched poll (tally room: the results; otherwise the participant count). */
async function resendSnapshots(socket: IoSocket, live: LiveService, broadcaster: Broadcaster, log: Logger) {
  for (const room of socket.rooms) {
    const m = /^poll:(\d+)$/.exec(room);
    if (!m) continue;
    const pollId = Number(m[1]);
    try {
      const frame = await live.snapshot(pollId);
      broadcaster.track(pollId, frame.results.version);
      if (socket.rooms.has(rooms.pollTally(pollId))) socket.emit('poll:tally', frame);
      else socket.emit('poll:participants', { pollId, participants: frame.participants });
    } catch (err) {
      log.warn({ err, pollId }, 'snapshot after recovery failed');
    }
  }
}

function watchedBy(socket: IoSocket): number {
  let n = 0;
  for (const r of socket.rooms) if (/^poll:\d+$/.test(r)) n++;
  return n;
}

/**
 * One client→server event: payload validated with its zod schema, the handler's result or error
 * acked through the one ack mapper. A missing ack is tolerated (the work is done, nobody is told).
 */
function handle<S extends z.ZodType, R>(
  socket: IoSocket,
  event: keyof ClientToServerEvents,
  schema: S,
  log: Logger,
  fn: (payload: z.infer<S>) => Promise<R>,
) {
  const listener = async (...args: unknown[]) => {
    const ack = typeof args[args.length - 1] === 'function' ? (args.pop() as (res: Ack<R>) => void) : null;
    try {
      const payload = parseOr(schema, args[0], 'bad_request', `Invalid ${event} payload`);
      const data = await fn(payload);
      ack?.({ ok: true, data });
    } catch (err) {
      ack?.(ackError(err, log));
    }
  };
  socket.on(event, listener as never);
}
