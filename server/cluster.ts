import cluster, { type Worker } from 'node:cluster';
import { availableParallelism } from 'node:os';
import type { Config } from './config.ts';
import type { Logger } from './logger.ts';
import { followSupervisor } from './supervised.ts';

/** How many server processes SERVER_PROCESSES asks for on this machine. */
export function serverProcesses(config: Pick<Config, 'SERVER_PROCESSES'>): number {
  return config.SERVER_PROCESSES === 'auto' ? availableParallelism() : config.SERVER_PROCESSES;
}

const RESTART_BACKOFF_MS = [200, 1_000, 5_000];

/**
 * The primary of SERVER_PROCESSES > 1: forks that many copies of this entry (node:cluster; they share the
 * listening socket and the primary hands out connections round-robin), restarts one that dies (with a
 * backoff), and on SIGTERM/SIGINT passes the signal on and exits once every process has stopped. It
 * opens no Redis connection and serves nothing itself.
 */
export function runPrimary(config: Config, logger: Logger, n: number): void {
  let stopping = false;
  const crashes: number[] = [];
  const fork = () => {
    const w = cluster.fork();
    w.on('exit', (code, signal) => onExit(w, code, signal));
    // a server process that stops leaves the cluster and exits at once: the primary's reply on the channel
    // may find it closed (EPIPE). That is the end of that process, reported by 'exit' above, not a fault.
    w.on('error', (err) => logger.debug({ err, pid: w.process.pid }, 'channel to a stopping server process closed'));
  };
  const onExit = (w: Worker, code: number | null, signal: string | null) => {
    if (stopping) {
      if (!Object.keys(cluster.workers ?? {}).length) {
        logger.info('all server processes stopped');
        process.exit(0);
      }
      return;
    }
    const now = Date.now();
    crashes.push(now);
    while (crashes.length && crashes[0] < now - 60_000) crashes.shift();
    const delay = RESTART_BACKOFF_MS[Math.min(crashes.length - 1, RESTART_BACKOFF_MS.length - 1)];
    logger.error({ pid: w.process.pid, code, signal, restartInMs: delay }, 'server process died; restarting it');
    setTimeout(fork, delay).unref();
  };
  for (let i = 0; i < n; i++) fork();
  logger.info({ processes: n, port: config.PORT }, 'server processes starting');

  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping server processes');
    const workers = Object.values(cluster.workers ?? {}).filter((w): w is Worker => !!w);
    if (!workers.length) process.exit(0);
    for (const w of workers) w.process.kill(signal);
    const force = setTimeout(() => {
      logger.error('server processes did not stop in time');
      process.exit(1);
    }, config.SHUTDOWN_TIMEOUT_MS + 5_000);
    force.unref();
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
  // under `npm start`'s supervisor the primary is its child: it passes the restart counts on to the server
  // processes (their own link is to the primary: server/supervised.ts runs unchanged there), asks for them
  // again when a server process says hello, and stops everything when the supervisor is gone
  followSupervisor({
    onRestarts: (counts) => {
      for (const w of Object.values(cluster.workers ?? {})) w?.send({ type: 'supervisor:restarts', counts });
    },
    onGone: () => stop('SIGTERM'),
  });
  cluster.on('message', (_w, m: { type?: unknown }) => {
    if (m?.type === 'supervisor:hello') process.send?.({ type: 'supervisor:hello' });
  });
}

export const isClusterPrimary = () => cluster.isPrimary;

/** A server process of the cluster, stopped: drop the channel to the primary (it keeps the process alive). */
export function leaveCluster(): void {
  if (cluster.isWorker) cluster.worker?.disconnect();
}
