import { Redis, type RedisOptions } from 'ioredis';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import type { Logger } from '../logger.ts';
import type { Config } from '../config.ts';

export type { Redis };

/** Where Redis is: a URL, or a Sentinel group that names the current master. */
export type RedisTarget = string | { sentinels: { host: string; port: number }[]; name: string };

/** The configured target (REDIS_SENTINELS wins; config.ts refuses both at once). Undefined: nothing configured. */
export function redisTarget(config: Pick<Config, 'REDIS_URL' | 'REDIS_SENTINELS' | 'REDIS_SENTINEL_NAME'>): RedisTarget | undefined {
  if (config.REDIS_SENTINELS?.length) {
    const sentinels = config.REDIS_SENTINELS.map((hp) => {
      const i = hp.lastIndexOf(':');
      return { host: hp.slice(0, i), port: Number(hp.slice(i + 1)) };
    });
    return { sentinels, name: config.REDIS_SENTINEL_NAME };
  }
  return config.REDIS_URL;
}

/**
 * A Redis connection. `blocking: true` is for BullMQ workers and subscribers
 * (`maxRetriesPerRequest: null`, as BullMQ requires: they wait for Redis to come back).
 *
 * `failFast` is for connections that serve requests: a request must never wait for a dead Redis.
 * The offline queue only bridges the first connect (stores are used synchronously after
 * construction); after the first `ready` a command sent while disconnected is rejected at once,
 * commands in flight when the link drops are rejected on the first failed reconnect, and
 * `commandTimeout` bounds a Redis that accepts connections but does not answer. Each of these
 * errors is one `isRedisUnavailable` recognises, so callers answer 503.
 */
export function createRedis(
  target: RedisTarget,
  opts: { name: string; logger?: Logger; blocking?: boolean; failFast?: { commandTimeoutMs: number } } & RedisOptions,
): Redis {
  const { name, logger, blocking, failFast, ...rest } = opts;
  const base: RedisOptions = {
    connectionName: name,
    lazyConnect: false,
    enableAutoPipelining: !blocking,
    maxRetriesPerRequest: blocking ? null : 2,
    retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 6), 2000),
    reconnectOnError: (err) => err.message.startsWith('READONLY') || err.message.startsWith('LOADING'),
    ...(failFast ? { maxRetriesPerRequest: 0, connectTimeout: 2_000, commandTimeout: failFast.commandTimeoutMs } : {}),
    ...rest,
  };
  const where: RedisOptions =
    typeof target === 'string'
      ? {}
      : {
          sentinels: target.sentinels,
          name: target.name,
          role: 'master',
          // subscribe to +switch-master: reconnect to the promoted master at once, not on the next error
          failoverDetector: true,
          sentinelRetryStrategy: (times) => Math.min(100 * times, 1000),
        };
  const redis = typeof target === 'string' ? new Redis(target, base) : new Redis({ ...base, ...where });
  if (failFast) {
    redis.once('ready', () => (redis.options.enableOfflineQueue = false));
    tripOnTimeout(redis);
    // a duplicate (a subscriber) is new and must bridge its own first connect: it gets the queue back
    const duplicate = redis.duplicate.bind(redis);
    redis.duplicate = (override?: Partial<RedisOptions>) => duplicate({ enableOfflineQueue: true, ...override });
  }
  if (logger) {
    let down = false;
    redis.on('error', (err) => {
      if (!down) logger.warn({ err, conn: name }, 'redis connection error');
      down = true;
    });
    redis.on('ready', () => {
      if (down) logger.info({ conn: name }, 'redis reconnected');
      down = false;
    });
  } else {
    redis.on('error', () => {});
  }
  return redis;
}

/**
 * A Redis that holds the connection open but stops answering (frozen, swapping, partitioned without a
 * reset) would cost every request its full command timeout, one command after another. The first
 * command that times out drops the connection instead: from then on commands are refused at once
 * until a reconnect completes its ready check, which a silent Redis never answers.
 */
function tripOnTimeout(redis: Redis) {
  const send = redis.sendCommand.bind(redis);
  redis.sendCommand = ((command: Parameters<Redis['sendCommand']>[0], stream?: Parameters<Redis['sendCommand']>[1]) => {
    const p = send(command, stream) as Promise<unknown>;
    p.catch((err: Error) => {
      if (err?.message === 'Command timed out' && redis.status === 'ready') redis.disconnect(true);
    });
    return p;
  }) as Redis['sendCommand'];
}

const scriptsDir = join(fileURLToPath(new URL('.', import.meta.url)), 'scripts');

/**
 * Registers every `scripts/<name>-<nKeys>.lua` as a custom command `<camelName>` (defineCommand:
 * EVALSHA with automatic EVAL fallback after a restart or SCRIPT FLUSH).
 */
export function defineScripts(redis: Redis): Redis {
  if (!existsSync(scriptsDir)) return redis;
  for (const file of readdirSync(scriptsDir)) {
    const m = /^([a-z0-9-]+)-(\d+)\.lua$/.exec(file);
    if (!m) continue;
    const name = m[1].replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
    redis.defineCommand(name, { numberOfKeys: Number(m[2]), lua: readFileSync(join(scriptsDir, file), 'utf8') });
  }
  return redis;
}

/** Quit politely, fall back to disconnect if Redis is unreachable. */
export async function closeRedis(redis: Redis): Promise<void> {
  if (redis.status === 'end') return;
  try {
    await Promise.race([redis.quit(), new Promise((_, rej) => setTimeout(() => rej(new Error('quit timeout')), 1000).unref())]);
  } catch {
    // QUIT failed or timed out (Redis down): drop the socket instead; there is nothing left to flush
    redis.disconnect();
  }
}
