import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, existsSync, chmodSync } from 'node:fs';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { Redis } from 'ioredis';

export type RedisServerHandle = {
  url: string;
  port: number;
  pid: number;
  dir: string;
  process: ChildProcess;
  /** SIGTERM and wait (redis-server fsyncs the AOF on a clean shutdown). */
  stop: (signal?: NodeJS.Signals) => Promise<void>;
};

export class RedisServerNotFound extends Error {}

/** The reason redis-server gave: its last log lines without the pid/time prefix, on one line. */
function lastLines(output: string, n = 2): string {
  const lines = output.trim().split('\n').filter(Boolean).slice(-n);
  return lines.map((l) => l.replace(/^\d+:[A-Z] [^#*.-]*[#*.-] /, '').trim()).join(' / ').slice(-500);
}

export function findRedisServer(): string | undefined {
  const dirs = (process.env.PATH ?? '').split(':');
  for (const d of dirs) {
    const p = resolve(d, 'redis-server');
    if (d && existsSync(p)) return p;
  }
  return undefined;
}

/** Signals a store's child and waits for its exit, with SIGKILL once `killAfterMs` has passed. */
export async function stopChild(child: ChildProcess, exited: Promise<unknown>, signal: NodeJS.Signals, killAfterMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill(signal);
  const t = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
  await exited;
  clearTimeout(t);
}

export async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => res(port));
    });
  });
}

/**
 * Starts a private redis-server child on 127.0.0.1 (never 6379 unless asked) with AOF on,
 * data in `dir`, `noeviction`; resolves once it answers PING.
 */
export async function startRedisServer(opts: {
  dir: string;
  port?: number;
  appendfsync?: 'always' | 'everysec' | 'no';
  appendonly?: boolean;
  extraArgs?: string[];
  /** Own process group: a signal to the launcher's group does not reach it, so the launcher stops it last. */
  detached?: boolean;
}): Promise<RedisServerHandle> {
  const bin = findRedisServer();
  if (!bin) {
    throw new RedisServerNotFound(
      'redis-server not found on PATH and REDIS_URL is not set: install Redis 7+ (Debian/Ubuntu: `apt-get install redis-server`, macOS: `brew install redis`) or set REDIS_URL=redis://host:6379',
    );
  }
  const dir = resolve(opts.dir);
  // Private to this user: the AOF's MULTI/EXEC blocks link each voter to their choice until a rewrite.
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  try {
    chmodSync(dir, 0o700);
  } catch {
    /* not ours to change (another owner): the operator's call */
  }
  const port = opts.port ?? (await freePort());
  const args = [
    '--port', String(port),
    '--bind', '127.0.0.1',
    '--dir', dir,
    '--appendonly', opts.appendonly === false ? 'no' : 'yes',
    '--appendfsync', opts.appendfsync ?? 'always',
    '--save', '',
    '--maxmemory-policy', 'noeviction',
    '--daemonize', 'no',
    '--protected-mode', 'yes',
    '--logfile', '',
    '--loglevel', 'warning',
    ...(opts.extraArgs ?? []),
  ];
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: opts.detached ?? false });
  let output = '';
  child.stdout?.on('data', (d) => { if (output.length < 10_000) output += d; });
  child.stderr?.on('data', (d) => { if (output.length < 10_000) output += d; });
  const url = `redis://127.0.0.1:${port}`;
  const exited = new Promise<void>((res) => child.once('exit', () => res()));
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`redis-server exited at start: ${lastLines(output)}`);
    // bounded: whatever holds the port may accept and never answer (then redis-server itself exits: bind failed)
    const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 1000, commandTimeout: 1000 });
    probe.on('error', () => {});
    try {
      // whichever comes first: an answer, or the child's exit (a failed bind, a bad AOF)
      const answered = await Promise.race([probe.connect().then(() => probe.ping()), exited.then(() => 'exited')]);
      if (answered === 'PONG') {
        probe.disconnect();
        break;
      }
    } catch {
      /* not yet */
    }
    probe.disconnect();
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`redis-server did not answer within 15 s: ${lastLines(output)}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url,
    port,
    pid: child.pid!,
    dir,
    process: child,
    stop: (signal: NodeJS.Signals = 'SIGTERM') => stopChild(child, exited, signal, 10_000),
  };
}
