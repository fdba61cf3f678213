import { getSocket } from './socket.ts';
import type { PollResults, PollStatus } from '$shared/values/polls.ts';
import type { Ack } from '$shared/errors.ts';
import type { ParticipantsFrame, PollStatusFrame, TallyFrame, WatchAckData } from '$shared/socket.ts';


/**
 * Live results of one poll: `poll:watch` (its ack carries the first snapshot and the participant count),
 * then `poll:tally` frames, or `poll:participants` while the results are not visible to this viewer.
 * Re-watches when visibility may have changed (the poll closed or was finalised, this tab voted) and
 * after a reconnect the server could not recover. Browser only — call `start()` from onMount and
 * return its cleanup.
 */
export class LiveTally {
  results = $state<PollResults | null>(null);
  participants = $state(0);
  status = $state<PollStatus | null>(null);
  canSeeResults = $state(false);
  connected = $state(false);
  frames = $state(0);
  error = $state<string | null>(null);
  /** When voting actually ended, as heard live (`poll:status` closed); null until then. */
  closedAt = $state<string | null>(null);
  /** Results held back until this many ballots are in (the anonymity threshold); null when not. */
  withheldUntil = $state<number | null>(null);
  /** Staff only: registered residents who may vote (the turnout's base), as of the last watch; null otherwise. */
  eligibleResidents = $state<number | null>(null);
  #pollId: number;

  constructor(pollId: number, initial: PollResults | null = null, status: PollStatus | null = null, withheld: { minGroup: number } | null = null) {
    this.#pollId = pollId;
    this.withheldUntil = withheld?.minGroup ?? null;
    this.results = initial;
    this.status = status;
    this.canSeeResults = initial !== null;
    this.participants = initial?.ballots ?? 0;
  }

  #apply(frame: TallyFrame) {
    if (frame.pollId !== this.#pollId) return;
    if (this.results && frame.results.version < this.results.version) return;
    this.results = frame.results;
    this.participants = frame.participants;
    this.frames += 1;
  }

  #watch = () => {
    const socket = getSocket();
    this.connected = socket.connected;
    socket.timeout(10_000).emit('poll:watch', { pollId: this.#pollId }, (err: Error | null, res?: Ack<WatchAckData>) => {
      if (err || !res) return void (this.error = 'unavailable');
      if (!res.ok) return void (this.error = res.error.code);
      this.error = null;
      this.status = res.data.status;
      this.canSeeResults = res.data.canSeeResults;
      this.withheldUntil = res.data.withheld?.minGroup ?? null;
      this.eligibleResidents = res.data.eligibleResidents;
      this.participants = Math.max(this.participants, res.data.participants);
      if (res.data.snapshot) this.#apply(res.data.snapshot);
    });
  };

  /** Subscribe; returns the cleanup (unwatch and detach). */
  start(): () => void {
    const socket = getSocket();
    const onTally = (f: TallyFrame) => this.#apply(f);
    const onParticipants = (f: ParticipantsFrame) => {
      if (f.pollId !== this.#pollId) return;
      this.participants = f.participants;
      // enough ballots now to show the totals: ask again (the server moves this socket to the tallies)
      if (this.withheldUntil !== null && f.participants >= this.withheldUntil) {
        this.withheldUntil = null;
        this.#watch();
      }
    };
    const onStatus = (f: PollStatusFrame) => {
      if (f.pollId !== this.#pollId) return;
      this.status = f.status;
      if (f.status === 'closed' && !this.closedAt) this.closedAt = f.at;
      // closing or finalising may open the results to this viewer (and finalised ones are the snapshot)
      if (f.status === 'closed' || f.status === 'finalised') this.#watch();
    };
    // a recovered connection has its rooms back and the missed events replayed: nothing to re-ask
    const onConnect = () => {
      this.connected = true;
      if (!socket.recovered) this.#watch();
    };
    const onDisconnect = () => (this.connected = false);
    socket.on('poll:tally', onTally);
    socket.on('poll:participants', onParticipants);
    socket.on('poll:status', onStatus);
    socket.on('connect', onConnect);
    socket.on('disconnect', onDisconnect);
    if (socket.connected) this.#watch();
    return () => {
      socket.off('poll:tally', onTally);
      socket.off('poll:participants', onParticipants);
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
