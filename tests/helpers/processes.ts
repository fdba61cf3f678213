import { spawn, type ChildProcess } from 'node:child_process';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
/**
 * DATA_DIR of test servers and workers: published ballot ledgers land here, never in the checkout's ./data.
 * Shared by every test (files are kept apart by the key prefix in their path).
 */
export const TEST_DATA_DIR = join(tmpdir(), 'ac-test-data');

export type Spawned = {
  child: ChildProcess;
  output: () => string;
  /** Resolves with the first output line matching `re` (or rejects after `ms`). */
  waitFor: (re: RegExp, ms?: number) => Promise<RegExpMatchArray>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
};

/**
 * Environment for a spawned server/worker process that shares an in-test context's Redis, key prefix and
 * secret (so both sides see the same keys and receipts). `extra` adds or overrides variables.
 */
export function childEnv(
  config: { REDIS_URL?: string; REDIS_PREFIX: string; APP_SECRET: string },
  extra: Record<string, string> = {},
): Record<string, string | undefined> {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NODE_ENV: 'test',
    LOG_LEVEL: 'info',
    // one server process unless a test asks for more (the default, auto, is one per core)
    SERVER_PROCESSES: '1',
    REDIS_URL: config.REDIS_URL,
    REDIS_PREFIX: config.REDIS_PREFIX,
    APP_SECRET: config.APP_SECRET,
    DATA_DIR: TEST_DATA_DIR,
    ...extra,
  };
}

/** Run a project script with the test run's Node (24) and capture its output. */
export function spawnScript(relPath: string, args: string[], env: Record<string, string | undefined>): Spawned {
  return spawnCommand(process.execPath, [join(ROOT, relPath), ...args], env);
}

/** Run any command in the project root and capture its output; `detached` makes it a process-group leader. */
export function spawnCommand(cmd: string, args: string[], env: Record<string, string | undefined>, opts: { detached?: boolean } = {}): Spawned {
  const child = spawn(cmd, args, {
    cwd: ROOT,
    env: env as NodeJS.ProcessEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: opts.detached ?? false,
  });
  let out = '';
  const waiters: { re: RegExp; res: (m: RegExpMatchArray) => void }[] = [];
  const onData = (d: Buffer) => {
    out += d.toString();
    for (const w of [...waiters]) {
      const m = out.match(w.re);
      if (m) {
        waiters.splice(waiters.indexOf(w), 1);
        w.res(m);
      }
    }
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) =>
    child.once('exit', (code, signal) => res({ code, signal })),
  );
  return {
    child,
    output: () => out,
    exited,
    waitFor: (re, ms = 30_000) =>
      new Promise((res, rej) => {
        const m = out.match(re);
        if (m) return res(m);
        const t = setTimeout(() => rej(new Error(`timed out waiting for ${re}; output:\n${out.slice(-2000)}`)), ms);
        waiters.push({ re, res: (mm) => (clearTimeout(t), res(mm)) });
        void exited.then(() => setTimeout(() => rej(new Error(`process exited before ${re}; output:\n${out.slice(-2000)}`)), 50));
      }),
  };
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Poll until `fn` returns truthy (events preferred; this is for process/HTTP state). */
export async function until<T>(fn: () => Promise<T> | T, ms = 20_000, every = 50): Promise<NonNullable<T>> {
  const deadline = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v as NonNullable<T>;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`condition not met within ${ms} ms${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, every));
  }
}
