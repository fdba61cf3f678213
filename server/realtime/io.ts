import { Server } from 'socket.io';
import { ServerResponse, type Server as HttpServer } from 'node:http';
import type { Config } from '../config.ts';
import type { Logger } from '../logger.ts';
import type { Metrics } from '../metrics.ts';
import type { Redis } from '../redis/connection.ts';
import type { SessionStore } from '../auth/session.store.ts';
import type { SessionCache } from '../auth/session-cache.ts';
import type { UserStore } from '../users/user.store.ts';
import type { ClientToServerEvents, ServerToClientEvents } from '../../shared/socket.ts';
import type { User } from '../../shared/users.ts';
import { resolveSession, resolveSessionId } from '../auth/auth.middleware.ts';
import { isAllowedOrigin } from '../http/origin.middleware.ts';
import { createRedis, closeRedis, redisTarget } from '../redis/connection.ts';
import type { CityDomain } from '../city/city.module.ts';
import { rooms } from './emitter.ts';
import { createBroadcaster, type Broadcaster } from './broadcaster.ts';
import type { LiveService } from './live.service.ts';
import { RecoveringRedisAdapter } from './recovering-adapter.ts';
import { subscribeUserBulk } from './user-bulk.ts';
import { serverProcesses } from '../cluster.ts';
import { SOCKET_RATE_LIMIT, type SocketRateLimit } from './rate-limit.ts';
import { createDispatcher, socketLog, type IoSocket, type ServerSocketData } from './socket-events.ts';
import { createSessionSync, type SessionSync } from './session-sync.ts';

export type IoServer = Server<ClientToServerEvents, ServerToClientEvents, Record<string, never>, ServerSocketData>;

const RECOVERY_MS = 2 * 60_000;
/** A connected socket's handshake: read only by the session middleware, before the connection. */
const SPENT_HANDSHAKE = Object.freeze({ headers: Object.freeze({}), time: '', address: '', xdomain: false, secure: false, issued: 0, url: '', query: Object.freeze({}), auth: Object.freeze({}) });
/** One frozen roles array per distinct set of roles, shared by every socket that has it. */
const rolesInterned = new Map<string, User['roles']>();

/**
 * What a socket keeps of its user: what its handlers decide with (id, roles, the profile fields of
 * eligibility), not the contact details; the roles array shared. Tens of thousands of sockets each
 * holding a full copy of its user added up.
 */
function socketUser(user: User | null): User | null {
  if (!user) return null;
  const key = user.roles.join(',');
  let roles = rolesInterned.get(key);
  if (!roles) rolesInterned.set(key, (roles = Object.freeze([...user.roles]) as User['roles']));
  return { id: user.id, phone: '', name: null, district: user.district, birthYear: user.birthYear, gender: user.gender, roles, profileComplete: user.profileComplete, createdAt: '' };
}

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
        offsetOnly: new Set(['session']),
      });
    } as never,
    allowRequest: (req, cb) => {
      const origin = req.headers.origin;
      // Browsers always send Origin on a WebSocket/XHR handshake; non-browser clients may omit it.
      if (origin && !isAllowedOrigin(config.ALLOWED_ORIGINS, origin)) return cb('origin not allowed', false);
      cb(null, true);
    },
  });

  subscribeUserBulk({ io, sub, prefix: config.REDIS_PREFIX, listens: (room) => (io.of('/').adapter as unknown as RecoveringRedisAdapter).listens(room), logger });

  const broadcaster = createBroadcaster({
    io,
    source: { versions: live.versions, results: live.results },
    tickMs: opts.tickMs ?? config.TICK_MS,
    logger,
    registry: metrics.registry,
  });
  broadcaster.start();
  const sync = createSessionSync({
    nsp: io.of('/') as never,
    sessionCache: deps.sessionCache,
    resolve: async (sid) => socketUser(await resolveSessionId({ sessions: deps.sessions }, sid)),
    live,
    broadcaster,
    logger,
  });

  /** Recovered sockets whose user is not the one their restored rooms were joined as. */
  const userChanged = new WeakSet<object>();
  io.use(async (socket, next) => {
    try {
      const r = await resolveSession({ sessions: deps.sessions, users: deps.users }, socket.handshake.headers.cookie);
      const user = socketUser(r?.user ?? null);
      // a recovered socket arrives with the data it had at the drop: its user then
      if (socket.recovered && JSON.stringify(socket.data.user ?? null) !== JSON.stringify(user)) userChanged.add(socket);
      socket.data.user = user;
      socket.data.sid = r?.sessionId;
      next();
    } catch (err) {
      logger.warn({ err }, 'socket auth failed');
      next(new Error('unavailable'));
    }
  });

  const limit = opts.rateLimit ?? SOCKET_RATE_LIMIT;
  const dispatch = createDispatcher({ logger, live, broadcaster, city: deps.city, limit });
  const onDisconnect = () => metrics.socketsConnected.dec();

  // The upgrade's stand-in response (engine.io's WebSocketResponse) stays referenced by a 'close' listener
  // on the TCP socket for the connection's whole life, and with it the upgrade request (headers, raw
  // headers, parser state: ~2 KB a socket). Nothing reads it once the middlewares have run: let it go.
  io.engine.use((_req: unknown, res: { req?: unknown }, next: () => void) => {
    if (!(res instanceof ServerResponse)) res.req = undefined;
    next();
  });

  // Per socket only what must be: Socket.IO's own state, the user, the limiter, rooms. Listeners are shared
  // functions (Socket.IO calls them with `this` = the socket), not closures made per socket.
  io.on('connection', (socket) => {
    // the user at connect; handlers read socket.data.user, which session-sync.ts replaces when the user's
    // roles, profile or sessions change
    const user = socket.data.user;
    // the session is resolved by now: neither the upgrade request nor the handshake's copy of it is kept
    (socket.conn as unknown as { request: unknown }).request = undefined;
    (socket as unknown as { handshake: unknown }).handshake = SPENT_HANDSHAKE;
    metrics.socketsConnected.inc();
    socket.on('disconnect', onDisconnect);
    if (user) void socket.join(rooms.user(user.id));
    // a recovered socket gets its old session's data back: city handlers made for the old socket object must go
    socket.data.city = undefined;
    socket.onAny(dispatch);
    socket.emit('session', { userId: user?.id ?? null, roles: user?.roles ?? [] });
    if (socket.recovered) void recovered(socket, userChanged.has(socket) ? sync : null, live, broadcaster, socketLog(logger, socket));
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

