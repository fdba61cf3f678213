import { Server } from 'socket.io';
import type { Server as HttpServer } from 'node:http';
import type { AppContext } from '../context.ts';
import type { ClientToServerEvents, ServerToClientEvents, SocketData } from '../../shared/socket.ts';
import { resolveSession } from '../auth/auth.middleware.ts';
import { isAllowedOrigin } from '../http/origin.middleware.ts';

export type IoServer = Server<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>;

/**
 * Socket.IO on the API's HTTP server: Origin allowlist at the handshake, the same session cookie as
 * the API (anonymous sockets may watch public results but never act), small buffers.
 */
export function createIo(httpServer: HttpServer, ctx: AppContext): IoServer {
  const { config, logger, metrics } = ctx;
  const io: IoServer = new Server(httpServer, {
    maxHttpBufferSize: 16 * 1024,
    serveClient: false,
    pingInterval: 20_000,
    pingTimeout: 20_000,
    connectionStateRecovery: { maxDisconnectionDuration: 2 * 60_000, skipMiddlewares: false },
    allowRequest: (req, cb) => {
      const origin = req.headers.origin;
      // Browsers always send Origin on a WebSocket/XHR handshake; non-browser clients may omit it.
      if (origin && !isAllowedOrigin(config.ALLOWED_ORIGINS, origin)) return cb('origin not allowed', false);
      cb(null, true);
    },
  });

  io.use(async (socket, next) => {
    try {
      const r = await resolveSession(ctx, socket.handshake.headers.cookie);
      socket.data.userId = r?.user.id ?? null;
      socket.data.roles = r?.user.roles ?? [];
      next();
    } catch (err) {
      logger.warn({ err }, 'socket auth failed');
      next(new Error('unavailable'));
    }
  });

  io.on('connection', (socket) => {
    metrics.socketsConnected.inc();
    socket.emit('session', { userId: socket.data.userId, roles: socket.data.roles });
    socket.on('ping:server', (ack) => {
      if (typeof ack === 'function') ack({ ok: true, data: { at: Date.now() } });
    });
    socket.on('disconnect', () => metrics.socketsConnected.dec());
  });

  return io;
}
