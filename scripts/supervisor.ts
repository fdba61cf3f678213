// The supervisor of `npm start`: keeps each child (the private stores, the server, the worker) running.
// A child that exits while the platform is not stopping is started again after a backoff; a child that
// keeps failing is given up on, and the caller stops the platform with the reason.
import type { ChildProcess } from 'node:child_process';

/** What a supervised child gives back once it runs: its process and how to stop it cleanly. */
export type ChildHandle = { process: ChildProcess; stop: (signal?: NodeJS.Signals) => Promise<void> };

export type SupervisedOptions<H extends ChildHandle> = {
  name: string;
  /** Start (or start again) the child; resolves once it serves. Stores restart on the same port and data dir. */
  start: () => Promise<H>;
  /** Called after each start, first included (announce it, pass its address on, …). */
  onStarted?: (handle: H, restarts: number) => void;
  /** Progress lines. */
  say: (line: string) => void;
  /** The child cannot be kept running: stop everything. */
  giveUp: (why: string) => void;
  /** Backoff before the n-th consecutive restart: base·2^(n-1), capped. */
  backoffMs?: { base: number; max: number };
  /** Consecutive failed starts (or deaths within `stableMs` of starting) before giving up. */
  maxFailures?: number;
  /** Up this long counts as a successful start: the failure streak and the backoff reset. */
  stableMs?: number;
  /** The very first run exiting with code 1 within `stableMs` means bad config or a taken port: give up at once. */
  firstFailureIsFatal?: boolean;
};

export type Supervised<H extends ChildHandle> = {
  readonly name: string;
  /** The running child (the last one started). */
  handle: () => H;
  /** Restarts so far (the first start excluded). */
  restarts: () => number;
  /** Stop supervising and stop the child (its own clean stop: stores fsync, services drain). */
  stop: () => Promise<void>;
};

/** Start `opts.start()` once (throws if that fails: nothing to supervise) and keep it running. */
export async function supervise<H extends ChildHandle>(opts: SupervisedOptions<H>): Promise<Supervised<H>> {
  const { name, say } = opts;
  const backoff = opts.backoffMs ?? { base: 250, max: 5_000 };
  const maxFailures = opts.maxFailures ?? 5;
  const stableMs = opts.stableMs ?? 10_000;
  let current = await opts.start();
  let startedAt = Date.now();
  let restarts = 0;
  let streak = 0; // consecutive starts that failed or did not last stableMs
  let stopping = false;
  let timer: NodeJS.Timeout | null = null;

  const watch = (h: H) => {
    h.process.once('exit', (code, signal) => {
      if (stopping || h !== current) return;
      if (opts.firstFailureIsFatal && restarts === 0 && code === 1 && Date.now() - startedAt < stableMs) {
        stopping = true;
        opts.giveUp(`${name} failed to start`);
        return;
      }
      streak = Date.now() - startedAt < stableMs ? streak + 1 : 1;
      say(`${name} exited (${signal ?? `code ${code}`})`);
      schedule();
    });
  };

  const schedule = () => {
    if (streak >= maxFailures) {
      stopping = true;
      opts.giveUp(`${name} failed ${streak} times in a row (did not start, or exited within ${stableMs / 1000} s of starting); giving up`);
      return;
    }
    const delay = Math.min(backoff.base * 2 ** Math.max(0, streak - 1), backoff.max);
    say(`restarting ${name} in ${delay} ms${streak > 1 ? ` (failure ${streak} of ${maxFailures} in a row)` : ''}`);
    timer = setTimeout(async () => {
      timer = null;
      if (stopping) return;
      try {
        const h = await opts.start();
        if (stopping) return void h.stop();
        current = h;
        startedAt = Date.now();
        restarts++;
        watch(h);
        opts.onStarted?.(h, restarts);
      } catch (err) {
        streak++;
        say(`${name} did not start: ${(err as Error).message}`);
        schedule();
      }
    }, delay);
  };

  watch(current);
  opts.onStarted?.(current, 0);
  return {
    name,
    handle: () => current,
    restarts: () => restarts,
    stop: async () => {
      stopping = true;
      if (timer) clearTimeout(timer);
      await current.stop();
    },
  };
}
