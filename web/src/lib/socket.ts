import { LiteSocket } from './lite-socket.ts';
import type { ClientToServerEvents, ServerToClientEvents } from '$shared/socket.ts';

export type AppSocket = LiteSocket<ServerToClientEvents, ClientToServerEvents>;

let socket: AppSocket | null = null;
let sessionUser: number | null | undefined;

/** One socket per tab, same origin, WebSocket; reconnects by itself (watchers re-watch on `connect`). Browser only. */
export function getSocket(): AppSocket {
  if (!socket) {
    socket = new LiteSocket<ServerToClientEvents, ClientToServerEvents>('/');
    socket.on('session', (s) => (sessionUser = s.userId));
  }
  return socket;
}

/**
 * The session cookie is read at the handshake; after signing in or out, reconnect so the server sees
 * the new identity (watched polls re-subscribe on `connect`).
 */
export function syncSocketUser(userId: number | null): void {
  if (!socket || sessionUser === undefined || sessionUser === userId) return;
  sessionUser = undefined;
  socket.disconnect().connect();
}
