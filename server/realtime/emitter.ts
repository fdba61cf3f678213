import { Emitter } from '@socket.io/redis-emitter';
import type { Redis } from '../redis/connection.ts';
import type { ServerToClientEvents } from '../../shared/socket.ts';

/**
 * Room names: every watcher of a poll (status events, participant counts), the watchers of a poll
 * allowed to see its results (tally frames, emitted per process only), every socket of one signed-in user.
 */
export const rooms = {
  poll: (pollId: number | string) => `poll:${pollId}`,
  pollTally: (pollId: number | string) => `poll:${pollId}:tally`,
  user: (userId: number) => `user:${userId}`,
  /** Our City: watchers of one report; the moderation queue; one organisation's inbox. */
  cityReport: (reportId: number) => `city:r:${reportId}`,
  cityModeration: () => 'city:moderation',
  cityOrg: (organisationId: number) => `city:org:${organisationId}`,
};

/** Events that may travel in bulk to many users at once (`toUsers`); the receiving side accepts only these. */
export const BULK_USER_EVENTS = ['points'] as const;
export type BulkUserEvent = (typeof BULK_USER_EVENTS)[number];
/** Channel of bulk per-user events: one message, one payload per user ({e, u: [[userId, payload], …]}). */
export const userBulkChannel = (prefix: string) => `${prefix}socket.io-users`;
/** Entries per bulk message: a batch step's thousands of awards go out in a few messages of this size. */
const BULK_CHUNK = 500;

/**
 * Emits Socket.IO events from any process (server or worker) through Redis, reaching the sockets on
 * every server process (they run the Redis adapter with the same key). Services use this; they never
 * see Socket.IO itself. Tallies are NOT sent this way (the per-process broadcaster does that).
 */
export function createRealtimeEmitter(redis: Redis, prefix: string) {
  // The emitter calls `publish` and drops the promise: with Redis down that rejection was unhandled and
  // killed the process (found by tests/faults/redis-kill.test.ts). Events are best effort (clients
  // resync on reconnect), so a failed publish is swallowed here.
  const publisher = { publish: (channel: string, msg: string | Buffer) => redis.publish(channel, msg).catch(() => 0) };
  const emitter = new Emitter<ServerToClientEvents>(publisher as unknown as Redis, { key: `${prefix}socket.io` });
  return {
    toUser<E extends keyof ServerToClientEvents>(userId: number, event: E, ...args: Parameters<ServerToClientEvents[E]>) {
      emitter.to(rooms.user(userId)).emit(event, ...args);
    },
    /**
     * One event to many users, a payload each, in one Redis message per BULK_CHUNK users instead of one
     * per user: every server process reads the message once and emits to the users' sockets it holds
     * (server/realtime/user-bulk.ts). Made for award batches, where a per-user message cost every process
     * a message per voter.
     */
    toUsers<E extends BulkUserEvent>(event: E, entries: [userId: number, payload: Parameters<ServerToClientEvents[E]>[0]][]) {
      for (let i = 0; i < entries.length; i += BULK_CHUNK) {
        void publisher.publish(userBulkChannel(prefix), JSON.stringify({ e: event, u: entries.slice(i, i + BULK_CHUNK) }));
      }
    },
    toRooms<E extends keyof ServerToClientEvents>(names: string[], event: E, ...args: Parameters<ServerToClientEvents[E]>) {
      if (names.length) emitter.to(names).emit(event, ...args);
    },
    toPoll<E extends keyof ServerToClientEvents>(pollId: number, event: E, ...args: Parameters<ServerToClientEvents[E]>) {
      emitter.to(rooms.poll(pollId)).emit(event, ...args);
    },
  };
}
export type RealtimeEmitter = ReturnType<typeof createRealtimeEmitter>;
