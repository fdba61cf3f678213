import { readdirSync, readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

const t0 = Date.now();

/** Progress line on stderr: `[bench +12.3s] message`. stdout is kept for the final table. */
export function progress(msg: string): void {
  process.stderr.write(`[bench +${((Date.now() - t0) / 1000).toFixed(1)}s] ${msg}\n`);
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Wall-clock milliseconds with sub-ms resolution, comparable across processes on one machine. */
export const nowMs = () => performance.timeOrigin + performance.now();

/** Percentile of an ascending-sorted array (nearest rank). */
export function pct(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

export function summarize(values: number[] | Float64Array): { n: number; p50: number; p90: number; p99: number; max: number; mean: number } {
  const a = Float64Array.from(values).sort();
  let sum = 0;
  for (const v of a) sum += v;
  return { n: a.length, p50: pct(a, 50), p90: pct(a, 90), p99: pct(a, 99), max: a.length ? a[a.length - 1] : NaN, mean: a.length ? sum / a.length : NaN };
}

/** Resident set size of a process in bytes (Linux /proc). */
export function rssOf(pid: number): number {
  const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : NaN;
}

/** CPU time (user + system) a process has used so far, in ms (Linux /proc; NaN once it has exited). */
export function cpuMsOf(pid: number): number {
  return ownCpuMs(pid) + childrenOf(pid).reduce((sum, c) => sum + (cpuMsOf(c) || 0), 0);
}

/** Live child processes (a SERVER_PROCESSES primary's server processes): their CPU counts as the parent's. */
function childrenOf(pid: number): number[] {
  try {
    return readdirSync(`/proc/${pid}/task`).flatMap((t) => readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number));
  } catch {
    return [];
  }
}

function ownCpuMs(pid: number): number {
  try {
    // fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1000) / CLK_TCK;
  } catch {
    return NaN;
  }
}
const CLK_TCK = 100; // USER_HZ: 100 on every mainstream Linux (getconf CLK_TCK)

/** CPU ms used by each process (with its live children) between `start()` and `stop()`. */
export function cpuMeter(pids: Record<string, number>) {
  const at0 = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, cpuMsOf(pid)]));
  const t0 = Date.now();
  return {
    stop(): { wallMs: number; cpuMs: Record<string, number> } {
      const cpuMs: Record<string, number> = {};
      for (const [k, pid] of Object.entries(pids)) cpuMs[k] = cpuMsOf(pid) - at0[k];
      return { wallMs: Date.now() - t0, cpuMs };
    },
  };
}

/** /proc/loadavg right now (1, 5, 15 min), for the record next to each measurement: the machine may be shared. */
export function loadNow(): string {
  try {
    return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  } catch {
    return '';
  }
}

/** Soft limit of open files of this process (children inherit it). */
export function openFilesLimit(): number {
  const m = /Max open files\s+(\d+)/.exec(readFileSync('/proc/self/limits', 'utf8'));
  return m ? Number(m[1]) : 1024;
}

/** Run `fn` over items with at most `limit` in flight. */
export async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    for (;;) {
      const i = next++;
      if (i >= items.length) return;
      out[i] = await fn(items[i], i);
    }
  });
  await Promise.all(workers);
  return out;
}

export function round(v: number, digits = 1): number {
  if (!Number.isFinite(v)) return v;
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}
