import { io, type Socket } from 'socket.io-client';
import type { ClientToServerEvents, ServerToClientEvents } from '../../shared/socket.ts';
import { TEST_ORIGIN } from './context.ts';

export type ClientSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

/**
 * A real Socket.IO client (WebSocket transport) with the given cookie and Origin; resolves once the
 * server's `session` event arrived (the socket is authenticated and its handlers are attached).
 */
export async function connectSocket(
  url: string,
  opts: { cookie?: string; origin?: string | null; reconnection?: boolean } = {},
): Promise<ClientSocket & { userId: number | null }> {
  const headers: Record<string, string> = {};
  if (opts.cookie) headers.cookie = opts.cookie;
  if (opts.origin !== null) headers.origin = opts.origin ?? TEST_ORIGIN;
  const socket = io(url, {
    transports: ['websocket'],
    extraHeaders: headers,
    forceNew: true,
    reconnection: opts.reconnection ?? true,
    reconnectionDelay: 100,
    reconnectionDelayMax: 500,
    timeout: 5_000,
  }) as ClientSocket & { userId: number | null };
  await new Promise<void>((res, rej) => {
    const t = setTimeout(() => rej(new Error('socket did not connect within 5 s')), 5_000);
    socket.once('session', (s) => {
      clearTimeout(t);
      socket.userId = s.userId;
      res();
    });
    socket.once('connect_error', (err) => {
      clearTimeout(t);
      socket.close();
      rej(err);
    });
  });
  return socket;
}

/** The next `event` whose payload satisfies `pred`, or a rejection after `ms`. */
export function nextEvent<E extends keyof ServerToClientEvents>(
  socket: ClientSocket,
  event: E,
  pred: (frame: Parameters<ServerToClientEvents[E]>[0]) => boolean = () => true,
  ms = 5_000,
): Promise<Parameters<ServerToClientEvents[E]>[0]> {
  return new Promise((res, rej) => {
    const on = ((frame: Parameters<ServerToClientEvents[E]>[0]) => {
      if (!pred(frame)) return;
      clearTimeout(t);
      socket.off(event, on as never);
      res(frame);
    }) as never;
    const t = setTimeout(() => {
      socket.off(event, on);
      rej(new Error(`no ${String(event)} within ${ms} ms`));
    }, ms);
    socket.on(event, on);
  });
}

/** Every `event` a socket receives, with its arrival time (performance.now()). */
export function record<E extends keyof ServerToClientEvents>(socket: ClientSocket, event: E) {
  const frames: { at: number; frame: Parameters<ServerToClientEvents[E]>[0] }[] = [];
  socket.on(event, ((frame: Parameters<ServerToClientEvents[E]>[0]) => frames.push({ at: performance.now(), frame })) as never);
  return frames;
}

/** emitWithAck with a timeout, typed loosely so tests can send malformed payloads on purpose. */
export function ask(socket: ClientSocket, event: string, ...args: unknown[]): Promise<any> {
  return (socket.timeout(5_000) as any).emitWithAck(event, ...args);
}
