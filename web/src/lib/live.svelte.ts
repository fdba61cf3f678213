import { getSocket } from './socket.ts';
import type { PollResults, PollStatus } from '$shared/values/polls.ts';
import type { PollStatusFrame, TallyFrame, WatchAckData } from '$shared/socket.ts';

/** One point of the ballots-over-time series the dashboard's per-minute chart is computed from. */
export type Sample = { at: number; ballots: number };

/**
 * Live results of one poll: `poll:watch` (its ack carries the first snapshot), then `poll:tally` frames;
 * re-watches after a reconnect. Browser only — call `start()` from onMount and return its cleanup.
 */
export class LiveTally {
  results = $state<PollResults | null>(null);
  participants = $state(0);
  status = $state<PollStatus | null>(null);
  canSeeResults = $state(false);
  connected = $state(false);
  frames = $state(0);
  error = $state<string | null>(null);
  samples = $state<Sample[]>([]);
  #pollId: number;

  constructor(pollId: number, initial: PollResults | null = null, status: PollStatus | null = null) {
    this.#pollId = pollId;
    this.results = initial;
    this.status = status;
    this.canSeeResults = initial !== null;
    if (initial) this.samples = [{ at: Date.now(), ballots: initial.ballots }];
  }

  #apply(frame: TallyFrame) {
    if (frame.pollId !== this.#pollId) return;
    if (this.results && frame.results.version < this.results.version) return;
    this.results = frame.results;
    this.participants = frame.participants;
    this.frames += 1;
    const s = this.samples;
    const last = s[s.length - 1];
    if (!last || last.ballots !== frame.results.ballots) {
      this.samples = [...s.slice(-599), { at: Date.now(), ballots: frame.results.ballots }];
    }
  }

  #watch = () => {
    const socket = getSocket();
    this.connected = socket.connected;
    socket.timeout(10_000).emit('poll:watch', { pollId: this.#pollId }, (err: Error | null, res?: { ok: boolean; data?: WatchAckData; error?: { code: string } }) => {
      if (err || !res) return void (this.error = 'unavailable');
      if (!res.ok || !res.data) return void (this.error = res.error?.code ?? 'internal');
      this.error = null;
      this.status = res.data.status;
      this.canSeeResults = res.data.canSeeResults;
      if (res.data.snapshot) this.#apply(res.data.snapshot);
    });
  };

  /** Subscribe; returns the cleanup (unwatch and detach). */
  start(): () => void {
    const socket = getSocket();
    const onTally = (f: TallyFrame) => this.#apply(f);
    const onStatus = (f: PollStatusFrame) => {
      if (f.pollId === this.#pollId) this.status = f.status;
    };
    const onConnect = () => {
      this.connected = true;
      this.#watch();
    };
    const onDisconnect = () => (this.connected = false);
    socket.on('poll:tally', onTally);
    socket.on('poll:status', onStatus);
    socket.on('connect', onConnect);
    socket.on('disconnect', onDisconnect);
    if (socket.connected) this.#watch();
    return () => {
      socket.off('poll:tally', onTally);
      socket.off('poll:status', onStatus);
      socket.off('connect', onConnect);
      socket.off('disconnect', onDisconnect);
      if (socket.connected) socket.emit('poll:unwatch', { pollId: this.#pollId }, () => {});
    };
  }

  /** Re-ask for the snapshot (e.g. after this tab voted and may now see results). */
  refresh() {
    if (getSocket().connected) this.#watch();
  }
}

/** Ballots per minute over the last `minutes`, bucketed by minute (for the dashboard sparkline). */
export function perMinute(samples: Sample[], now: number, minutes = 15): number[] {
  const buckets = new Array<number>(minutes).fill(0);
  for (let i = 1; i < samples.length; i++) {
    const age = now - samples[i].at;
    const b = minutes - 1 - Math.floor(age / 60_000);
    if (b >= 0 && b < minutes) buckets[b] += Math.max(0, samples[i].ballots - samples[i - 1].ballots);
  }
  return buckets;
}
