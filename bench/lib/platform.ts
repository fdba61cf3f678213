import { mkdtempSync, rmSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRedisServer, freePort, type RedisServerHandle } from '../../server/redis/redis-server.ts';
import { spawnProject, type Child, ROOT } from './proc.ts';
import { progress, sleep } from './util.ts';

export type Platform = {
  url: string;
  origin: string;
  port: number;
  redis: RedisServerHandle;
  redisUrl: string;
  prefix: string;
  env: Record<string, string>;
  server: Child;
  worker: Child;
  appendfsync: 'always' | 'everysec';
  stop: () => Promise<void>;
};

export const BENCH_PREFIX = 'ac:';
export const BENCH_SECRET = 'bench-secret-0123456789abcdef';

/**
 * The real platform as `npm start` runs it: a private redis-server (AOF on, the given fsync policy, data
 * in a temp dir), then server/main.ts and server/worker.ts as two processes with its REDIS_URL.
 * Resolves when /readyz says ready (Redis reachable and the worker's heartbeat seen).
 */
export async function startPlatform(opts: { appendfsync: 'always' | 'everysec'; tickMs: number; workerConcurrency?: number; profileDir?: string; serverProcesses?: number; serverExecArgv?: string[] }): Promise<Platform> {
  const dir = mkdtempSync(join(tmpdir(), 'ac-bench-redis-'));
  const redis = await startRedisServer({ dir, appendfsync: opts.appendfsync, extraArgs: ['--maxclients', '1000'] });
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const env: Record<string, string> = {
    NODE_ENV: 'production',
    APP_SECRET: BENCH_SECRET,
    REDIS_URL: redis.url,
    REDIS_PREFIX: BENCH_PREFIX,
    // published ballot ledgers land in the run's temp dir, never in the checkout
    DATA_DIR: dir,
    HOST: '127.0.0.1',
    PORT: String(port),
    LOG_LEVEL: 'warn',
    TICK_MS: String(opts.tickMs),
    ALLOWED_ORIGINS: origin,
    // sign-in is not what is measured; the bench seeds sessions through the stores
    OTP_PER_IP_PER_HOUR: '100000',
    // one server process unless a phase asks for more (the 1 vs N comparison)
    SERVER_PROCESSES: String(opts.serverProcesses ?? 1),
    ...(opts.workerConcurrency ? { WORKER_CONCURRENCY: String(opts.workerConcurrency) } : {}),
  };
  let profArgs: string[] = [];
  if (opts.profileDir) {
    mkdirSync(opts.profileDir, { recursive: true });
    profArgs = ['--cpu-prof', `--cpu-prof-dir=${opts.profileDir}`];
  }
  const server = spawnProject('server/main.ts', env, [...profArgs, ...(opts.serverExecArgv ?? [])]);
  const worker = spawnProject('server/worker.ts', env);
  const url = origin;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (server.child.exitCode !== null) throw new Error(`server exited at start:\n${server.output().slice(-3000)}`);
    if (worker.child.exitCode !== null) throw new Error(`worker exited at start:\n${worker.output().slice(-3000)}`);
    try {
      const r = await fetch(`${url}/readyz`);
      if (r.status === 200) break;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) throw new Error(`platform not ready within 60 s:\n${server.output().slice(-2000)}\n${worker.output().slice(-2000)}`);
    await sleep(100);
  }
  progress(`platform up: redis-server pid ${redis.pid} (AOF appendfsync ${opts.appendfsync}), server pid ${server.pid} on ${url}, worker pid ${worker.pid}`);
  let stopped = false;
  return {
    url,
    origin,
    port,
    redis,
    redisUrl: redis.url,
    prefix: BENCH_PREFIX,
    env,
    server,
    worker,
    appendfsync: opts.appendfsync,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      await Promise.all([server.stop(20_000), worker.stop(20_000)]);
      await redis.stop();
      rmSync(dir, { recursive: true, force: true });
      progress('platform stopped');
    },
  };
}

export { ROOT };
