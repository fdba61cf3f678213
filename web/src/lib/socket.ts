import { io, type Socket } from 'socket.io-client';
import type { ClientToServerEvents, ServerToClientEvents } from '$shared/socket.ts';

export type AppSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

let socket: AppSocket | null = null;

/** One socket per tab, same origin, WebSocket first; reconnects and recovers state by itself. */
export function getSocket(): AppSocket {
  socket ??= io({ transports: ['websocket', 'polling'], withCredentials: true });
  return socket;
}
