import { fork, spawn, type ChildProcess } from 'node:child_process';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export type Msg = { type: string; [k: string]: unknown };

export type Child = {
  child: ChildProcess;
  pid: number;
  /** Last ~20 KB of output (when piped). */
  output: () => string;
  /** Next IPC message of a type (or rejects after `ms`, or when the child exits first). */
  message: <T extends Msg = Msg>(type: string, ms?: number) => Promise<T>;
  /** Every IPC message of a type, as it comes. */
  onMessage: (type: string, fn: (m: Msg) => void) => void;
  send: (m: Msg) => void;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGTERM, then SIGKILL after `graceMs`. */
  stop: (graceMs?: number) => Promise<void>;
};

function wrap(child: ChildProcess, label: string, pipeOutput: boolean): Child {
  let out = '';
  const keep = (d: Buffer) => {
    out += d.toString();
    if (out.length > 20_000) out = out.slice(-20_000);
  };
  if (pipeOutput) {
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
  }
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) =>
    child.once('exit', (code, signal) => res({ code, signal })),
  );
  const queues = new Map<string, Msg[]>();
  const waiters = new Map<string, ((m: Msg) => void)[]>();
  const listeners = new Map<string, ((m: Msg) => void)[]>();
  child.on('message', (raw) => {
    const m = raw as Msg;
    if (!m || typeof m.type !== 'string') return;
    for (const fn of listeners.get(m.type) ?? []) fn(m);
    const w = waiters.get(m.type);
    if (w?.length) return w.shift()!(m);
    if (!listeners.has(m.type)) {
      const q = queues.get(m.type) ?? [];
      q.push(m);
      queues.set(m.type, q);
    }
  });
  let dead = false;
  void exited.then(() => (dead = true));
  return {
    child,
    pid: child.pid!,
    output: () => out,
    message: <T extends Msg = Msg>(type: string, ms = 120_000) =>
      new Promise<T>((res, rej) => {
        const q = queues.get(type);
        if (q?.length) return res(q.shift() as T);
        const t = setTimeout(() => rej(new Error(`${label}: no "${type}" message within ${ms} ms\n${out.slice(-2000)}`)), ms);
        const list = waiters.get(type) ?? [];
        const waiter = (m: Msg) => {
          clearTimeout(t);
          res(m as T);
        };
        list.push(waiter);
        waiters.set(type, list);
        void exited.then(({ code, signal }) =>
          setTimeout(() => {
            clearTimeout(t);
            rej(new Error(`${label} exited (${signal ?? code}) before "${type}"\n${out.slice(-2000)}`));
          }, 100),
        );
      }),
    onMessage: (type, fn) => {
      const list = listeners.get(type) ?? [];
      list.push(fn);
      listeners.set(type, list);
      for (const m of queues.get(type)?.splice(0) ?? []) fn(m);
    },
    send: (m) => {
      if (!dead && child.connected) child.send(m);
    },
    exited,
    stop: async (graceMs = 15_000) => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(t);
    },
  };
}

/** A bench TypeScript module in its own Node 24 process with an IPC channel (load generators, baselines). */
export function forkBench(relPath: string, args: string[] = [], opts: { env?: Record<string, string>; execArgv?: string[]; pipe?: boolean } = {}): Child {
  const child = fork(join(ROOT, relPath), args, {
    cwd: ROOT,
    env: { ...process.env, ...opts.env },
    execArgv: opts.execArgv ?? [],
    stdio: opts.pipe ? ['ignore', 'pipe', 'pipe', 'ipc'] : ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return wrap(child, relPath, !!opts.pipe);
}

/** A project process (server/main.ts, server/worker.ts) as `npm start` runs it, output captured. */
export function spawnProject(relPath: string, env: Record<string, string>, execArgv: string[] = []): Child {
  const child = spawn(process.execPath, [...execArgv, join(ROOT, relPath)], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return wrap(child, relPath, true);
}
