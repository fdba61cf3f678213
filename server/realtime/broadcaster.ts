import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { PollResults } from '../../shared/polls.ts';
import type { Logger } from '../logger.ts';
import { rooms } from './emitter.ts';
import { tallyFrame } from './live.service.ts';
import type { IoServer } from './io.ts';

/** Where tallies come from: versions of many polls in one round trip, then the results of the ones that moved. */
export type TallySource = {
  versions(pollIds: number[]): Promise<number[]>;
  results(pollId: number): Promise<PollResults>;
};

export type BroadcasterStats = {
  ticks: number;
  /** Ticks that had at least one watched poll (each costs one versions round trip). */
  activeTicks: number;
  versionReads: number;
  /** Polls whose results were read (the ones that moved). */
  resultReads: number;
  framesEmitted: number;
  errors: number;
  /** Ticks started later than tickMs after the previous one, to keep emitting within EMIT_SHARE. */
  paced: number;
};

/**
 * At most this share of the event loop's time goes to emitting frames: after a tick whose emits took
 * `e` ms, the next one starts no sooner than e × (1 − share) / share later. With tens of thousands of
 * watchers on one process an emit is long (a write per socket); back to back they would starve the vote
 * path (Redis replies wait behind them past the command timeout: 503s). Watchers then get frames less
 * often than every tick, never a stale final state: the next tick sends whatever moved.
 */
const EMIT_SHARE = 0.5;

function metric<T>(registry: Registry, name: string, make: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? make();
}

/**
 * Live results, per server process (DESIGN §5). For each poll with local watchers it remembers the
 * tally version last sent; every tick it reads the versions of those polls in ONE round trip and, for the
 * ones that changed (in either direction: after a Redis restart with data loss a version can go back),
 * reads the results (auto-pipelined: one more round trip however many moved) and emits one frame to the
 * LOCAL rooms only (`io.local`): the poll's tally room gets `poll:tally`, the other watchers of the poll
 * (not allowed to see results yet) get `poll:participants`. No per-vote emit, no cross-node tally echo,
 * at most one frame per watcher per tick; cost O(watched polls) per tick, not O(votes).
 * A failing tick is logged (once per outage) and the next tick tries again; ticks never overlap.
 */
export function createBroadcaster(opts: { io: IoServer; source: TallySource; tickMs: number; logger: Logger; registry: Registry }) {
  const { io, source, tickMs, registry } = opts;
  const log = opts.logger.child({ component: 'broadcaster' });
  const adapterRooms = () => io.of('/').adapter.rooms;
  /** pollId -> version last sent here (undefined: unknown, send on the next tick). */
  const last = new Map<number, number | undefined>();
  const stats: BroadcasterStats = { ticks: 0, activeTicks: 0, versionReads: 0, resultReads: 0, framesEmitted: 0, errors: 0, paced: 0 };
  /** Milliseconds the last tick spent emitting (synchronous socket writes). */
  let lastEmitMs = 0;

  const watchedGauge = metric(registry, 'ac_live_watched_polls', () =>
    new Gauge({ name: 'ac_live_watched_polls', help: 'Polls with watchers on this process', registers: [registry] }));
  const framesCounter = metric(registry, 'ac_live_frames_total', () =>
    new Counter({ name: 'ac_live_frames_total', help: 'Live frames delivered to local sockets', labelNames: ['kind'] as const, registers: [registry] }));
  const tickHistogram = metric(registry, 'ac_live_tick_duration_seconds', () =>
    new Histogram({
      name: 'ac_live_tick_duration_seconds',
      help: 'Duration of one live-results tick (versions read, changed results read, emit)',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers: [registry],
    }));
  const tickErrors = metric(registry, 'ac_live_tick_errors_total', () =>
    new Counter({ name: 'ac_live_tick_errors_total', help: 'Live-results ticks that failed (Redis unreachable, …)', registers: [registry] }));

  const size = (room: string) => adapterRooms().get(room)?.size ?? 0;

  let running: Promise<void> | null = null;
  let generation = 0;
  let failing = false;

  async function runTick(gen: number): Promise<void> {
    stats.ticks++;
    // forget polls nobody here watches any more
    for (const id of last.keys()) if (size(rooms.poll(id)) === 0) last.delete(id);
    watchedGauge.set(last.size);
    if (last.size === 0) return;
    stats.activeTicks++;
    const end = tickHistogram.startTimer();
    const ids = [...last.keys()];
    stats.versionReads++;
    const versions = await source.versions(ids);
    const moved = ids.filter((id, i) => last.has(id) && versions[i] !== last.get(id));
    if (moved.length > 0) {
      stats.resultReads += moved.length;
      const results = await Promise.all(moved.map((id) => source.results(id)));
      if (gen !== generation) return; // a newer tick took over (this one hung): drop stale data
      const emitStart = performance.now();
      for (const r of results) {
        if (!last.has(r.pollId)) continue; // unwatched meanwhile
        last.set(r.pollId, r.version);
        const tallyRoom = rooms.pollTally(r.pollId);
        const allRoom = rooms.poll(r.pollId);
        const nTally = size(tallyRoom);
        const nOthers = size(allRoom) - nTally;
        if (nTally > 0) io.local.to(tallyRoom).emit('poll:tally', tallyFrame(r));
        if (nOthers > 0) io.local.to(allRoom).except(tallyRoom).emit('poll:participants', { pollId: r.pollId, participants: r.ballots });
        framesCounter.inc({ kind: 'tally' }, nTally);
        framesCounter.inc({ kind: 'participants' }, nOthers);
        stats.framesEmitted += nTally + Math.max(0, nOthers);
      }
      lastEmitMs = performance.now() - emitStart;
    } else lastEmitMs = 0;
    end();
  }

  /** One tick now (the timer calls this; tests may too). Never throws; never overlaps a running tick. */
  async function tick(): Promise<void> {
    if (running) return running;
    const gen = ++generation;
    // a tick stuck on a dead connection must not stop live results for good
    const guard = new Promise<void>((res) => setTimeout(res, Math.max(2_000, tickMs * 10)).unref());
    const work = runTick(gen).then(
      () => {
        if (failing) log.info('live results recovered');
        failing = false;
      },
      (err: Error) => {
        stats.errors++;
        tickErrors.inc();
        if (!failing) log.warn({ err }, 'live results tick failed; retrying every tick');
        failing = true;
      },
    );
    running = Promise.race([work, guard]).finally(() => {
      if (gen === generation) running = null;
    });
    return running;
  }

  let timer: NodeJS.Timeout | null = null;
  let started = false;
  const loop = () => {
    const t0 = performance.now();
    void tick().finally(() => {
      if (!started) return;
      const gap = (lastEmitMs * (1 - EMIT_SHARE)) / EMIT_SHARE;
      const wait = Math.max(tickMs - (performance.now() - t0), gap);
      if (gap > tickMs - (performance.now() - t0)) stats.paced++;
      timer = setTimeout(loop, Math.max(0, wait));
      timer.unref();
    });
  };
  return {
    stats: () => ({ ...stats, watched: last.size }),
    /** A local socket started watching: make sure the poll is ticked (`version`: what its snapshot showed). */
    track(pollId: number, version?: number) {
      if (!last.has(pollId)) last.set(pollId, version);
      watchedGauge.set(last.size);
    },
    tick,
    start() {
      if (started) return;
      started = true;
      timer = setTimeout(loop, tickMs);
      timer.unref();
    },
    async stop() {
      started = false;
      if (timer) clearTimeout(timer);
      timer = null;
      await running;
    },
  };
}
export type Broadcaster = ReturnType<typeof createBroadcaster>;
