import { io, type Socket } from 'socket.io-client';
import { invalidateAll } from '$app/navigation';
import type { ClientToServerEvents, ServerToClientEvents } from '$shared/socket.ts';

export type AppSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

let socket: AppSocket | null = null;
let sessionUser: number | null | undefined;
/** The signed-in user's roles as the server last said them ('' before the first `session`). */
let sessionRoles = '';

/**
 * One socket per tab, same origin, WebSocket only (the build drops the long-polling code: see
 * vite.config.ts). socket.io-client sends the connection-state-recovery offset on reconnect, so a short
 * drop replays the missed status, notification and points events (`socket.recovered`); otherwise the
 * watchers re-watch on `connect`. Browser only.
 */
export function getSocket(): AppSocket {
  if (!socket) {
    socket = io({ transports: ['websocket'], reconnectionDelayMax: 10_000 });
    socket.on('session', (s) => {
      const roles = [...s.roles].sort().join(',') || '-';
      // the same user's roles changed (granted or revoked elsewhere): what the page may show changed with
      // them (results, staff links), so its data is loaded again
      const changed = sessionUser === s.userId && sessionRoles !== '' && roles !== sessionRoles;
      sessionUser = s.userId;
      sessionRoles = roles;
      if (changed) void invalidateAll();
    });
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
