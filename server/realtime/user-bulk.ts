import type { Logger } from '../logger.ts';
import type { Redis } from '../redis/connection.ts';
import { BULK_USER_EVENTS, rooms, userBulkChannel, type BulkUserEvent } from './emitter.ts';
import type { IoServer } from './io.ts';

const ALLOWED: ReadonlySet<string> = new Set(BULK_USER_EVENTS);

/**
 * The server side of `toUsers`: each bulk message is read once per process, and each payload goes to
 * its user's room on THIS process only (`io.local`), when the room is here — live sockets or a
 * disconnected session awaiting recovery (`listens`), so the recovering adapter records it and a
 * reconnecting socket gets it replayed, as with events that come through the adapter.
 */
export function subscribeUserBulk(opts: { io: IoServer; sub: Redis; prefix: string; listens: (room: string) => boolean; logger: Logger }) {
  const { io, sub, listens, logger } = opts;
  const channel = userBulkChannel(opts.prefix);
  void sub.subscribe(channel).catch((err: Error) => logger.warn({ err }, 'bulk user events: subscribe failed (ioredis resubscribes on reconnect)'));
  sub.on('messageBuffer', (ch: Buffer, msg: Buffer) => {
    if (ch.toString() !== channel) return;
    let m: { e?: unknown; u?: unknown };
    try {
      m = JSON.parse(msg.toString());
    } catch {
      return logger.warn({ channel }, 'bulk user events: a message that is not JSON, dropped');
    }
    if (typeof m?.e !== 'string' || !ALLOWED.has(m.e) || !Array.isArray(m.u)) return logger.warn({ channel }, 'bulk user events: a malformed message, dropped');
    const event = m.e as BulkUserEvent;
    for (const entry of m.u as unknown[]) {
      if (!Array.isArray(entry) || !Number.isSafeInteger(entry[0]) || typeof entry[1] !== 'object' || entry[1] === null) continue;
      const room = rooms.user(entry[0]);
      if (listens(room)) io.local.to(room).emit(event, entry[1]);
    }
  });
}
