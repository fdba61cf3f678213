import type { Socket } from 'socket.io';
import type { Logger } from '../logger.ts';
import type { SessionCache, SessionChange } from '../auth/session-cache.ts';
import { sessionUserId } from '../auth/session-id.ts';
import { cityPolicy } from '../city/city.policy.ts';
import { AppError } from '../errors.ts';
import type { ClientToServerEvents, ServerToClientEvents, SocketData } from '../../shared/socket.ts';
import type { User } from '../../shared/users.ts';
import { rooms } from './emitter.ts';
import type { Broadcaster } from './broadcaster.ts';
import type { LiveService } from './live.service.ts';

type IoSocket = Socket<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>;
type Namespace = { sockets: Map<string, IoSocket>; adapter: { rooms: Map<string, Set<string>> } };

const POLL_ROOM = /^poll:(\d+)$/;
const USER_ROOM = /^user:(\d+)$/;
const ORG_ROOM = /^city:org:(\d+)$/;

/**
 * Whether a user may stay in one of Our City's staff rooms, asked of its policy (city.policy.ts): the
 * moderation queue is for those `city:queue:watch` lets in (moderators, officials, admins), an
 * organisation's inbox for whoever may answer for it. Other rooms are not staff rooms.
 */
function mayStayInCityRoom(room: string, user: User | null): boolean {
  if (room === rooms.cityModeration()) return cityPolicy.canModerate(user) || cityPolicy.canSupervise(user);
  const org = ORG_ROOM.exec(room);
  if (!org) return true;
  const scope = cityPolicy.answerScope(user, [Number(org[1])]);
  return scope === null || scope.length > 0;
}

const sameRoles = (a: User | null, b: User | null) => a?.id === b?.id && [...(a?.roles ?? [])].sort().join() === [...(b?.roles ?? [])].sort().join();

/**
 * Keeps each open socket's user current without a reconnect. Every profile, role or sign-out change is
 * published by the session cache (from any process); this process then re-resolves the session of each of
 * that user's sockets it holds, and puts the socket's rooms in line with the new user under the same
 * policies that let it in: a poll's tally room (poll.access.ts, through the live service: joined with a
 * fresh frame when the results became visible, left when they no longer are), Our City's staff rooms
 * (left when the policy no longer lets the user in; the client re-asks `city:queue:watch` on `session`
 * to join), the user's own room (left on sign-out; a recovered socket keeps only its current user's). The socket then gets `session` again when its user or roles
 * changed. A change whose message this process missed (its subscriber reconnecting) applies at the next
 * connection; a socket whose session cannot be read now (Redis away) has its transport closed, so it
 * reconnects through the handshake, which reads the user again.
 */
export function createSessionSync(deps: {
  nsp: Namespace;
  sessionCache: Pick<SessionCache, 'onChange'>;
  resolve: (sid: string) => Promise<User | null>;
  live: Pick<LiveService, 'canSeeResults' | 'snapshot'>;
  broadcaster: Pick<Broadcaster, 'track'>;
  logger: Logger;
}) {
  const { nsp, live, broadcaster } = deps;
  const log = deps.logger.child({ component: 'session-sync' });
  /** One re-check at a time per socket, in the order the changes came. */
  const queue = new WeakMap<IoSocket, Promise<void>>();

  /** Put the socket's rooms in line with its current user; returns the polls whose tally room it joined. */
  async function recheckRooms(socket: IoSocket): Promise<number[]> {
    const user = socket.data.user;
    const joined: number[] = [];
    for (const room of [...socket.rooms]) {
      if (!mayStayInCityRoom(room, user)) void socket.leave(room);
      // only its own user's room (a recovered socket gets back the room of whoever it was before)
      const owner = USER_ROOM.exec(room);
      if (owner && Number(owner[1]) !== user?.id) void socket.leave(room);
      const m = POLL_ROOM.exec(room);
      if (!m) continue;
      const pollId = Number(m[1]);
      let canSee: boolean;
      try {
        canSee = await live.canSeeResults(pollId, user);
      } catch (err) {
        // a draft is invisible to non-staff (and a deleted poll to everyone): stop watching it at all
        if (!(err instanceof AppError) || err.code !== 'not_found') throw err;
        void socket.leave(rooms.pollTally(pollId));
        void socket.leave(room);
        continue;
      }
      const tally = rooms.pollTally(pollId);
      if (canSee && !socket.rooms.has(tally)) {
        void socket.join(tally);
        joined.push(pollId);
      } else if (!canSee && socket.rooms.has(tally)) void socket.leave(tally);
    }
    return joined;
  }

  async function refresh(socket: IoSocket): Promise<void> {
    const before = socket.data.user;
    const sid = socket.data.sid;
    try {
      socket.data.user = sid ? await deps.resolve(sid) : null;
      if (!socket.data.user) socket.data.sid = undefined; // signed out: anonymous from now on
      const joined = await recheckRooms(socket);
      for (const pollId of joined) {
        const frame = await live.snapshot(pollId);
        broadcaster.track(pollId, frame.results.version);
        socket.emit('poll:tally', frame);
      }
    } catch (err) {
      log.warn({ err, socketId: socket.id, userId: before?.id ?? null }, 'socket user could not be re-read: closing its transport (it reconnects through the handshake)');
      socket.conn.close();
      return;
    }
    if (!sameRoles(before, socket.data.user)) socket.emit('session', { userId: socket.data.user?.id ?? null, roles: socket.data.user?.roles ?? [] });
  }

  function changed(c: SessionChange) {
    const userId = 'userId' in c ? c.userId : sessionUserId(c.sid);
    for (const id of nsp.adapter.rooms.get(rooms.user(userId)) ?? []) {
      const socket = nsp.sockets.get(id);
      if (!socket || ('sid' in c && socket.data.sid !== c.sid)) continue;
      const next = (queue.get(socket) ?? Promise.resolve()).then(() => (socket.connected ? refresh(socket) : undefined));
      queue.set(socket, next);
    }
  }

  const stop = deps.sessionCache.onChange(changed);
  return {
    /** A recovered connection gets its old rooms back: re-check them against the user its handshake read (io.ts: when that user changed). */
    recheckRooms: (socket: IoSocket) => recheckRooms(socket).then(() => undefined),
    close: stop,
  };
}
export type SessionSync = ReturnType<typeof createSessionSync>;
