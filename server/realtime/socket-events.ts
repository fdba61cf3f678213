import type { Socket } from 'socket.io';
import type { z } from 'zod';
import type { Logger } from '../logger.ts';
import type { Ack } from '../../shared/errors.ts';
import { pollWatchPayload, type ClientToServerEvents, type ServerToClientEvents, type SocketData, type WatchAckData } from '../../shared/socket.ts';
import { AppError, ackError, parseOr } from '../errors.ts';
import { jsonDepthExceeds, tooDeepMessage } from '../json-depth.ts';
import { registerCitySocket } from '../city/city.socket.ts';
import type { CityDomain } from '../city/city.module.ts';
import { rooms } from './emitter.ts';
import type { Broadcaster } from './broadcaster.ts';
import type { LiveService } from './live.service.ts';
import { createSocketLimiter, type SocketLimiter, type SocketRateLimit } from './rate-limit.ts';

/** Per socket on the server: the shared contract's data plus the socket's event limiter. */
export type ServerSocketData = SocketData & { limiter?: SocketLimiter; city?: Map<string, Handler> };
export type IoSocket = Socket<ClientToServerEvents, ServerToClientEvents, Record<string, never>, ServerSocketData>;

/** Polls one socket may watch at once (each is two rooms). */
export const MAX_WATCHED_POLLS = 20;

type Handler = { schema: z.ZodType | null; fn: (socket: IoSocket, payload: any) => Promise<unknown> };
type CityEvent = 'city:watch' | 'city:unwatch' | 'city:queue:watch';
const CITY_EVENTS: ReadonlySet<string> = new Set<CityEvent>(['city:watch', 'city:unwatch', 'city:queue:watch']);

/** Child logger for one socket, made only when something is logged (it would cost memory on every socket). */
export function socketLog(logger: Logger, socket: IoSocket): Logger {
  return logger.child({ socketId: socket.id, userId: socket.data.user?.id ?? null });
}

/**
 * Every client→server event of one server, as ONE shared listener (`socket.onAny`, called with `this` =
 * the socket): the per-socket rate limit first, then the event's handler from a table built once — payload
 * validated with its zod schema, result or error acked through the one ack mapper. A missing ack is
 * tolerated (the work is done, nobody is told); unknown events are ignored. Nothing is allocated per
 * socket but its limiter: with tens of thousands of watchers, per-socket listener closures were a large
 * part of what a socket costs. Our City's handlers close over their socket, so they are registered on a
 * socket's first city event only.
 */
export function createDispatcher(deps: { logger: Logger; live: LiveService; broadcaster: Broadcaster; city: CityDomain | null; limit: SocketRateLimit }) {
  const { logger, live, broadcaster, limit } = deps;
  const table = new Map<keyof ClientToServerEvents, Handler>();
  const on = <S extends z.ZodType, R>(event: keyof ClientToServerEvents, schema: S | null, fn: (socket: IoSocket, payload: z.infer<S>) => Promise<R>) =>
    table.set(event, { schema, fn });

  on('ping:server', null, async () => ({ at: Date.now() }));

  on('poll:watch', pollWatchPayload, async (socket, { pollId }): Promise<WatchAckData> => {
    // read per event: session-sync.ts replaces the user when roles, profile or sessions change
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

  on('poll:unwatch', pollWatchPayload, async (socket, { pollId }) => {
    void socket.leave(rooms.pollTally(pollId));
    void socket.leave(rooms.poll(pollId));
    return { pollId };
  });

  function cityHandler(socket: IoSocket, event: string): Handler | undefined {
    if (!CITY_EVENTS.has(event)) return undefined;
    if (!socket.data.city) {
      const handlers = new Map<string, Handler>();
      registerCitySocket(socket, deps.city, (name, schema, fn) => handlers.set(name, { schema, fn: (_s, payload) => fn(payload) }));
      socket.data.city = handlers;
    }
    return socket.data.city.get(event);
  }

  async function run(socket: IoSocket, event: string, h: Handler, payload: unknown, ack: ((res: Ack<unknown>) => void) | null) {
    try {
      // the one place socket payloads meet a schema: nothing walks a deep one (server/json-depth.ts)
      if (h.schema && jsonDepthExceeds(payload)) throw new AppError('bad_request', tooDeepMessage(`The ${event} payload`));
      const data = await h.fn(socket, h.schema ? parseOr(h.schema, payload, 'bad_request', `Invalid ${event} payload`) : payload);
      ack?.({ ok: true, data });
    } catch (err) {
      ack?.(ackError(err, () => socketLog(logger, socket)));
    }
  }

  return function dispatch(this: IoSocket, event: string, ...args: unknown[]): void {
    const socket = this;
    const ack = typeof args[args.length - 1] === 'function' ? (args.pop() as (res: Ack<unknown>) => void) : null;
    const limiter = (socket.data.limiter ??= createSocketLimiter(limit));
    if (!limiter.allow()) {
      ack?.(ackError(new AppError('rate_limited', 'Too many events; slow down')));
      if (limiter.rejected() === 1) socketLog(logger, socket).warn({ event: String(event) }, 'socket over its event rate limit');
      if (limiter.shouldDisconnect()) {
        socketLog(logger, socket).warn({ rejected: limiter.rejected() }, 'socket kept flooding: disconnected');
        socket.disconnect(true);
      }
      return;
    }
    const h = table.get(event as keyof ClientToServerEvents) ?? cityHandler(socket, event);
    // an event without a payload (`ping:server(ack)`) called with arguments before its ack: not the
    // contract, so not answered (the ack slot may hold anything a client sent)
    if (!h || (h.schema === null && args.length > 0)) return;
    void run(socket, event, h, args[0], ack);
  };
}

function watchedBy(socket: IoSocket): number {
  let n = 0;
  for (const r of socket.rooms) if (/^poll:\d+$/.test(r)) n++;
  return n;
}
