import { randomBytes } from 'node:crypto';
import { RedisAdapter } from '@socket.io/redis-adapter';
import type { BroadcastOptions, PrivateSessionId, Session } from 'socket.io-adapter';
import type { Redis } from '../redis/connection.ts';

type Stored = { id: string; opts: BroadcastOptions; data: unknown[]; emittedAt: number };
type SessionToPersist = Omit<Session, 'missedPackets'> & { disconnectedAt?: number };
type Internals = {
  hasRoom: (room: string) => boolean;
  _encode: (packet: { type: number; id?: number; data: unknown[] }, packetOpts: { volatile?: boolean }) => unknown;
  apply: (opts: BroadcastOptions, cb: (socket: unknown) => void) => void;
};

/**
 * The Socket.IO Redis adapter plus per-process connection state recovery.
 *
 * `@socket.io/redis-adapter` extends the plain `Adapter`, whose `restoreSession` always answers null, so
 * with it Socket.IO's connection state recovery never recovers. This adds what `SessionAwareAdapter`
 * (the in-memory one) does — keep disconnected sessions and the packets delivered on THIS process for
 * `maxDisconnectionDuration`, and replay the missed ones — for packets from local emits and from other
 * processes alike. A client that reconnects to the same process (sticky sessions, or one process)
 * recovers its rooms and missed status/notification/points events; one that lands elsewhere is not
 * recovered and re-watches (a full snapshot).
 *
 * Events in `unrecorded` (live tallies: frequent, and each frame supersedes the last) are not stored; a
 * recovered socket is sent fresh snapshots instead (io.ts). Hooks the adapter's internal `_encode` and
 * `apply` (socket.io-adapter 2.5: `broadcast` calls `_encode(packet)` then `apply(opts)`), after the Redis
 * publish, so other processes never see this process's offsets. Covered by tests/integration/live.test.ts.
 */
export class RecoveringRedisAdapter extends RedisAdapter {
  private readonly sessions = new Map<PrivateSessionId, SessionToPersist>();
  private readonly packets: Stored[] = [];
  private readonly maxDisconnectionDuration: number;
  private pending: { id: string; data: unknown[] } | null = null;
  /** Rooms of disconnected sessions (room -> sessions): events to them are recorded though nobody is here. */
  private readonly awaited = new Map<string, number>();

  constructor(nsp: any, pub: Redis, sub: Redis, opts: { key: string; maxDisconnectionDuration: number; unrecorded: ReadonlySet<string> }) {
    super(nsp, pub, sub, { key: opts.key });
    this.maxDisconnectionDuration = opts.maxDisconnectionDuration;
    const self = this as unknown as Internals;
    const encode = self._encode.bind(this);
    const apply = self.apply.bind(this);
    const hasRoom = self.hasRoom.bind(this);
    // a message from another process to a room only disconnected sessions are in must still be recorded
    // (the Redis adapter drops messages for rooms it does not know before they reach broadcast)
    self.hasRoom = (room) => hasRoom(room) || this.awaited.has(room);
    self._encode = (packet, packetOpts) => {
      const isEvent = packet.type === 2;
      if (isEvent && packet.id === undefined && !packetOpts.volatile && !opts.unrecorded.has(String(packet.data[0]))) {
        const id = randomBytes(9).toString('base64url');
        // the offset travels as the last argument; the client keeps the last one it saw
        packet.data.push(id);
        this.pending = { id, data: packet.data };
      }
      return encode(packet, packetOpts);
    };
    self.apply = (bopts, cb) => {
      if (this.pending) {
        this.packets.push({ ...this.pending, opts: bopts, emittedAt: Date.now() });
        this.pending = null;
      }
      return apply(bopts, cb);
    };
    const timer = setInterval(() => this.expire(), 60_000);
    timer.unref();
  }

  /** A packet for one local socket (socket.emit with recovery on) need not cross Redis. */
  override broadcast(packet: any, opts: BroadcastOptions): void {
    if (!opts.flags?.local && opts.rooms.size === 1 && (opts.except?.size ?? 0) === 0) {
      const room = opts.rooms.values().next().value as string;
      if (this.nsp.sockets.has(room)) opts = { ...opts, flags: { ...opts.flags, local: true } };
    }
    super.broadcast(packet, opts);
  }

  override persistSession(session: SessionToPersist): void {
    session.disconnectedAt = Date.now();
    this.forget(session.pid);
    this.sessions.set(session.pid, session);
    for (const r of session.rooms) this.awaited.set(r, (this.awaited.get(r) ?? 0) + 1);
  }

  private forget(pid: PrivateSessionId) {
    const s = this.sessions.get(pid);
    if (!s) return;
    this.sessions.delete(pid);
    for (const r of s.rooms) {
      const n = (this.awaited.get(r) ?? 1) - 1;
      if (n > 0) this.awaited.set(r, n);
      else this.awaited.delete(r);
    }
  }

  override restoreSession(pid: PrivateSessionId, offset: string): Promise<Session> {
    const session = this.sessions.get(pid);
    if (!session) return Promise.resolve(null as unknown as Session);
    this.forget(pid); // a session restores once
    if ((session.disconnectedAt ?? 0) + this.maxDisconnectionDuration < Date.now()) return Promise.resolve(null as unknown as Session);
    const index = this.packets.findIndex((p) => p.id === offset);
    if (index === -1) return Promise.resolve(null as unknown as Session);
    const missedPackets: unknown[][] = [];
    for (let i = index + 1; i < this.packets.length; i++) {
      const p = this.packets[i];
      const included = p.opts.rooms.size === 0 || session.rooms.some((r) => p.opts.rooms.has(r));
      const excluded = session.rooms.some((r) => p.opts.except?.has(r));
      if (included && !excluded) missedPackets.push(p.data);
    }
    return Promise.resolve({ ...session, missedPackets } as Session);
  }

  private expire() {
    const threshold = Date.now() - this.maxDisconnectionDuration;
    for (const [pid, s] of this.sessions) if ((s.disconnectedAt ?? 0) < threshold) this.forget(pid);
    let drop = 0;
    while (drop < this.packets.length && this.packets[drop].emittedAt < threshold) drop++;
    if (drop) this.packets.splice(0, drop);
  }
}
