import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../server/redis/redis-server.ts';
import { FAULT_ORIGIN, FAULT_SECRET } from './faults.ts';
import { spawnCommand, spawnScript, isAlive, until, ROOT, type Spawned } from './processes.ts';

/** The pids `npm start` reports: the launcher, its private redis-server and postgres, the server and the worker. */
export type LaunchedPids = { launcher: number; redis: number; postgres: number; server: number; worker: number };

export type Launched = {
  proc: Spawned;
  url: string;
  port: number;
  prefix: string;
  /** The private redis-server's URL (same port across supervisor restarts). */
  redisUrl: string;
  /** The private postgres's port (the same across supervisor restarts). */
  postgresPort: number;
  pids: LaunchedPids;
  /** Every pid of the platform seen so far that is still alive. */
  survivors: () => number[];
  /** SIGKILL whatever is left (each pid by itself: children run in their own process groups) and remove the data dir. */
  destroy: () => Promise<void>;
};

const pinoPid = (out: string, msg: RegExp) => {
  for (const line of out.split('\n')) {
    if (!line.startsWith('{') || !msg.test(line)) continue;
    try {
      return (JSON.parse(line) as { pid: number }).pid;
    } catch {
      /* a partial line */
    }
  }
  return undefined;
};

/**
 * The whole platform as an operator starts it: `npm start` (via: 'npm', a process-group leader so a test
 * can signal the group) or `node scripts/start.ts` (via: 'node'), with a private redis-server and
 * postgres in a temp DATA_DIR, the fault suite's secret and origin. Resolves once /readyz is 200.
 */
export async function launch(opts: { via: 'npm' | 'node'; label: string; env?: Record<string, string> }): Promise<Launched> {
  const dataDir = mkdtempSync(join(tmpdir(), `ac-launch-${opts.label}-`));
  chmodSync(dataDir, 0o711); // as root, the private postgres runs as `postgres` and must reach its data dir in here
  const port = await freePort();
  const prefix = `f:${opts.label}:`;
  const env: Record<string, string | undefined> = {
    PATH: opts.via === 'npm' ? `${join(ROOT, 'node_modules', '.bin')}:${process.env.PATH}` : process.env.PATH,
    HOME: process.env.HOME,
    NODE_ENV: 'test',
    LOG_LEVEL: 'info',
    PORT: String(port),
    HOST: '127.0.0.1',
    DATA_DIR: dataDir,
    REDIS_PREFIX: prefix,
    APP_SECRET: FAULT_SECRET,
    ALLOWED_ORIGINS: FAULT_ORIGIN,
    SHUTDOWN_TIMEOUT_MS: '5000',
    WORKER_STALLED_INTERVAL_MS: '500',
    ...opts.env,
  };
  const proc =
    opts.via === 'npm'
      ? spawnCommand('npm', ['start', '--silent', '--', '--no-build'], env, { detached: true })
      : spawnScript('scripts/start.ts', ['--no-build'], env);
  const seen = new Set<number>();
  /** Every private store the launcher reported (the first of each and each supervisor restart). */
  const scanRedisPids = () => {
    for (const m of proc.output().matchAll(/private (?:redis-server|postgres) (?:restarted \(pid|pid) (\d+)/g)) seen.add(Number(m[1]));
  };
  const destroy = async () => {
    scanRedisPids();
    for (const pid of seen) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
    if (proc.child.exitCode === null && proc.child.signalCode === null) {
      proc.child.kill('SIGKILL');
      await proc.exited;
    }
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    const [, redisPid, redisUrl] = await proc.waitFor(/private redis-server pid (\d+) on (redis:\/\/[\d.]+:\d+)/, 60_000);
    const [, postgresPid, postgresPort] = await proc.waitFor(/private postgres pid (\d+) on postgres:\/\/\*\*\*@[\d.]+:(\d+)/, 60_000);
    const [, launcherPid] = await proc.waitFor(/launcher pid (\d+)/, 60_000);
    await proc.waitFor(/server listening/, 60_000);
    await proc.waitFor(/workers started/, 60_000);
    const url = `http://127.0.0.1:${port}`;
    await until(async () => (await fetch(`${url}/readyz`)).status === 200, 60_000, 100);
    const pids = {
      launcher: Number(launcherPid),
      redis: Number(redisPid),
      postgres: Number(postgresPid),
      server: pinoPid(proc.output(), /"msg":"server listening/)!,
      worker: pinoPid(proc.output(), /"msg":"workers started"/)!,
    };
    for (const pid of [proc.child.pid!, ...Object.values(pids)]) seen.add(pid);
    return {
      proc,
      url,
      port,
      prefix,
      redisUrl,
      postgresPort: Number(postgresPort),
      pids,
      survivors: () => {
        scanRedisPids();
        return [...seen].filter(isAlive);
      },
      destroy,
    };
  } catch (err) {
    await destroy();
    throw err;
  }
}
