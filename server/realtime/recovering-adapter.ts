import { randomBytes } from 'node:crypto';
import { RedisAdapter } from '@socket.io/redis-adapter';
import type { BroadcastOptions, PrivateSessionId, Session } from 'socket.io-adapter';
import type { Redis } from '../redis/connection.ts';

type Stored = { seq: number; opts: BroadcastOptions; data: unknown[]; emittedAt: number };
type SessionToPersist = Omit<Session, 'missedPackets'> & { disconnectedAt?: number };
type Internals = {
  hasRoom: (room: string) => boolean;
  _encode: (packet: { type: number; id?: number; data: unknown[] }, packetOpts: { volatile?: boolean }) => unknown;
  apply: (opts: BroadcastOptions, cb: (socket: unknown) => void) => void;
};

export type RecoveryOptions = {
  key: string;
  maxDisconnectionDuration: number;
  /** Events never recorded nor given an offset (live tallies: frequent, and each frame supersedes the last). */
  unrecorded: ReadonlySet<string>;
  /**
   * Events given an offset but never stored: the connection handler sends a fresh one on every connection,
   * recovered or not, so replaying it is useless; its offset still lets a client that saw nothing else recover.
   */
  offsetOnly: ReadonlySet<string>;
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
 * Offsets are `<epoch>.<seq>`: this adapter's random epoch and a counter, so a restore finds its place by
 * number (binary search) and an offset needs no stored packet of its own. A client recovers when no packet
 * after its offset has expired yet (`dropped`); offsets of another process or an older run never match.
 *
 * Hooks the adapter's internal `_encode` and `apply` (socket.io-adapter 2.5: `broadcast` calls
 * `_encode(packet)` then `apply(opts)`), after the Redis publish, so other processes never see this
 * process's offsets. Covered by tests/integration/live.test.ts and recovering-adapter.test.ts.
 */
export class RecoveringRedisAdapter extends RedisAdapter {
  private readonly sessions = new Map<PrivateSessionId, SessionToPersist>();
  /** Stored packets, oldest first (ascending seq). */
  private readonly packets: Stored[] = [];
  private readonly maxDisconnectionDuration: number;
  private readonly epoch = randomBytes(6).toString('base64url');
  private seq = 0;
  /** Highest seq whose packet expired: offsets below it may have missed a packet that is gone. */
  private dropped = 0;
  private pending: { seq: number; data: unknown[] } | null = null;
  /** Rooms of disconnected sessions (room -> sessions): events to them are recorded though nobody is here. */
  private readonly awaited = new Map<string, number>();

  constructor(nsp: any, pub: Redis, sub: Redis, opts: RecoveryOptions) {
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
      const event = String(packet.data[0]);
      if (isEvent && packet.id === undefined && !packetOpts.volatile && !opts.unrecorded.has(event)) {
        const seq = ++this.seq;
        // the offset travels as the last argument; the client keeps the last one it saw
        packet.data.push(`${this.epoch}.${seq.toString(36)}`);
        this.pending = opts.offsetOnly.has(event) ? null : { seq, data: packet.data };
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
    const timer = setInterval(() => this.expire(), Math.min(60_000, this.maxDisconnectionDuration));
    timer.unref();
  }

  /** Whether an event to this room would reach anyone here: a live socket, or a session awaiting recovery. */
  listens(room: string): boolean {
    return (this as unknown as Internals).hasRoom(room);
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

  /** The seq of an offset this adapter gave out, or -1. */
  private seqOf(offset: string): number {
    const dot = offset.lastIndexOf('.');
    if (dot < 0 || offset.slice(0, dot) !== this.epoch) return -1;
    const seq = parseInt(offset.slice(dot + 1), 36);
    return Number.isSafeInteger(seq) && seq > 0 && seq <= this.seq ? seq : -1;
  }

  override restoreSession(pid: PrivateSessionId, offset: string): Promise<Session> {
    const session = this.sessions.get(pid);
    if (!session) return Promise.resolve(null as unknown as Session);
    this.forget(pid); // a session restores once
    if ((session.disconnectedAt ?? 0) + this.maxDisconnectionDuration < Date.now()) return Promise.resolve(null as unknown as Session);
    const seq = this.seqOf(offset);
    // a packet after the offset has expired: what was missed is no longer known
    if (seq < 0 || seq < this.dropped) return Promise.resolve(null as unknown as Session);
    const missedPackets: unknown[][] = [];
    for (let i = this.firstAfter(seq); i < this.packets.length; i++) {
      const p = this.packets[i];
      const included = p.opts.rooms.size === 0 || session.rooms.some((r) => p.opts.rooms.has(r));
      const excluded = session.rooms.some((r) => p.opts.except?.has(r));
      if (included && !excluded) missedPackets.push(p.data);
    }
    return Promise.resolve({ ...session, missedPackets } as Session);
  }

  /** Index of the first stored packet with a seq above `seq`. */
  private firstAfter(seq: number): number {
    let lo = 0;
    let hi = this.packets.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.packets[mid].seq <= seq) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private expire() {
    const threshold = Date.now() - this.maxDisconnectionDuration;
    for (const [pid, s] of this.sessions) if ((s.disconnectedAt ?? 0) < threshold) this.forget(pid);
    let drop = 0;
    while (drop < this.packets.length && this.packets[drop].emittedAt < threshold) drop++;
    if (drop) {
      this.dropped = this.packets[drop - 1].seq;
      this.packets.splice(0, drop);
    }
  }
}
