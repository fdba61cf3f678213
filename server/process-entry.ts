import { loadConfig, ConfigError, type Config } from './config.ts';
import { redisTarget } from './redis/connection.ts';
import type { Logger } from './logger.ts';

/**
 * What the server and worker entry points share: the validated config or a one-line start-up error
 * (exit 1, never a stack trace), and one graceful stop for SIGTERM, SIGINT and a vanished supervisor.
 */

/** The config, or exit 1 with `<name>: <why>` on stderr (a bad env, or no Redis to talk to). */
export function configOrExit(name: string, noRedisHint = ''): Config {
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`${name}: ${err.message}\n`);
    process.exit(1);
  }
  if (!redisTarget(config)) {
    process.stderr.write(`${name}: neither REDIS_URL nor REDIS_SENTINELS is set${noRedisHint}\n`);
    process.exit(1);
  }
  return config;
}

/**
 * The first SIGTERM or SIGINT runs `stop` (each handler is `once`: a second signal of the same kind gets
 * Node's default, an immediate exit, as a second Ctrl-C should); a stop that outlasts the shutdown timeout
 * by 5 s, or fails, exits 1. Returns the trigger for other reasons to stop (the supervisor gone).
 */
export function stopOnSignals(logger: Logger, o: { label: string; timeoutMs: number; stop: () => Promise<void> }): (reason: string) => void {
  let down = false;
  const shutdown = async (reason: string) => {
    if (down) return;
    down = true;
    logger.info({ signal: reason }, `${o.label} shutting down`);
    const force = setTimeout(() => {
      logger.error(`${o.label} shutdown timed out, exiting`);
      process.exit(1);
    }, o.timeoutMs + 5_000);
    force.unref();
    await o.stop();
    process.exitCode = 0;
  };
  const trigger = (reason: string) =>
    void shutdown(reason).catch((err: unknown) => {
      logger.error({ err }, `${o.label} shutdown failed`);
      process.exit(1);
    });
  process.once('SIGTERM', () => trigger('SIGTERM'));
  process.once('SIGINT', () => trigger('SIGINT'));
  return trigger;
}

/** Run an entry point's `main`; a failure to start is one line on stderr and exit 1. */
export function runMain(name: string, main: () => Promise<void>): void {
  main().catch((err: unknown) => {
    process.stderr.write(`${name}: failed to start: ${(err as Error).message}\n`);
    process.exit(1);
  });
}
