import { Redis, type RedisOptions } from 'ioredis';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import type { Logger } from '../logger.ts';

export type { Redis };

/**
 * A Redis connection. `blocking: true` is for BullMQ workers and subscribers
 * (`maxRetriesPerRequest: null`, as BullMQ requires); API connections fail fast instead
 * so a request never hangs on a dead Redis.
 */
export function createRedis(url: string, opts: { name: string; logger?: Logger; blocking?: boolean } & RedisOptions): Redis {
  const { name, logger, blocking, ...rest } = opts;
  const redis = new Redis(url, {
    connectionName: name,
    lazyConnect: false,
    enableAutoPipelining: !blocking,
    maxRetriesPerRequest: blocking ? null : 2,
    retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 6), 2000),
    reconnectOnError: (err) => err.message.startsWith('READONLY') || err.message.startsWith('LOADING'),
    ...rest,
  });
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
