import { cpus, totalmem, release, hostname } from 'node:os';
import { execSync } from 'node:child_process';

export type Row = { phase: string; metric: string; value: string; target?: string; pass?: boolean | null; note?: string };

export function machineInfo() {
  let redisVersion = '';
  try {
    redisVersion = execSync('redis-server --version', { encoding: 'utf8' }).trim();
  } catch {
    /* not found */
  }
  let load = '';
  try {
    load = execSync('cat /proc/loadavg', { encoding: 'utf8' }).trim();
  } catch {
    /* not linux */
  }
  return {
    host: hostname(),
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? '',
    memoryGB: Math.round(totalmem() / 2 ** 30),
    kernel: release(),
    node: process.version,
    redis: redisVersion,
    loadavgAtStart: load,
  };
}

/** A plain-text table for stdout. */
export function formatTable(rows: Row[]): string {
  const head = ['phase', 'metric', 'value', 'target', 'ok'];
  const cells = rows.map((r) => [r.phase, r.metric, r.value, r.target ?? '', r.pass === undefined || r.pass === null ? '' : r.pass ? 'PASS' : 'MISS']);
  const w = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c: string[]) => c.map((x, i) => x.padEnd(w[i])).join('  ').trimEnd();
  const out = [line(head), w.map((n) => '-'.repeat(n)).join('  ')];
  let prev = '';
  for (const c of cells) {
    out.push(line([c[0] === prev ? '' : c[0], ...c.slice(1)]));
    prev = c[0];
  }
  const notes = rows.filter((r) => r.note).map((r) => `  * ${r.phase} / ${r.metric}: ${r.note}`);
  return [...out, ...(notes.length ? ['', 'notes:', ...notes] : [])].join('\n');
}

export const fmt = (v: number, d = 0) => (Number.isFinite(v) ? v.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d }) : 'n/a');
