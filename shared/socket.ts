import type { Ack } from './errors.ts';

/**
 * The typed Socket.IO contract. Server: `Server<ClientToServerEvents, ServerToClientEvents, {}, SocketData>`,
 * web: `Socket<ServerToClientEvents, ClientToServerEvents>`. Payloads are validated with zod on the server.
 */
export interface ServerToClientEvents {
  /** Sent once on connect: who the server thinks you are (null = anonymous watcher). */
  'session': (data: { userId: number | null; roles: string[] }) => void;
}

export interface ClientToServerEvents {
  'ping:server': (ack: (res: Ack<{ at: number }>) => void) => void;
}

export interface SocketData {
  userId: number | null;
  roles: string[];
}
