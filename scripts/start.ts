// `npm start`: the whole platform on one machine. Starts a private redis-server (AOF on, data under
// DATA_DIR) unless REDIS_URL is set, then the server and the worker as child processes; SIGTERM/SIGINT
// stops them in order (server and worker drain, then Redis fsyncs and exits).
import { spawn, type ChildProcess } from 'node:child_process';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig, ConfigError, type Config } from '../server/config.ts';
import { startRedisServer, RedisServerNotFound, type RedisServerHandle } from '../server/redis/redis-server.ts';
import { buildWeb } from './build-web.ts';
import { startPostgresServer, PostgresServerNotFound, type PostgresServerHandle } from '../server/postgres/postgres-server.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const say = (line: string) => process.stdout.write(`[start] ${line}\n`);
const fail = (line: string): never => {
  process.stderr.write(`[start] ${line}\n`);
  process.exit(1);
};

let config: Config;
try {
  config = loadConfig();
} catch (err) {
  if (err instanceof ConfigError) fail(err.message);
  throw err;
}

if (!process.argv.includes('--no-build')) buildWeb({ quiet: true });

let redis: RedisServerHandle | null = null;
let redisUrl = config.REDIS_URL;
if (!redisUrl) {
  try {
    redis = await startRedisServer({ dir: join(config.DATA_DIR, 'redis'), appendfsync: config.REDIS_APPENDFSYNC });
  } catch (err) {
    if (err instanceof RedisServerNotFound) fail(err.message);
    fail(`could not start redis-server: ${(err as Error).message}`);
  }
  redisUrl = redis!.url;
  say(`private redis-server pid ${redis!.pid} on ${redisUrl}, data in ${redis!.dir} (AOF, appendfsync ${config.REDIS_APPENDFSYNC})`);
} else {
  say(`using REDIS_URL ${redisUrl.replace(/\/\/[^@]*@/, '//***@')}`);
}

// Our City's PostgreSQL: a private one (Debian's binaries, data under DATA_DIR/postgres) unless DATABASE_URL is set
let postgres: PostgresServerHandle | null = null;
let databaseUrl = config.DATABASE_URL;
if (!databaseUrl) {
  try {
    postgres = await startPostgresServer({ dir: join(config.DATA_DIR, 'postgres'), database: 'active_citizen' });
  } catch (err) {
    await redis?.stop();
    fail(err instanceof PostgresServerNotFound ? err.message : `could not start postgres: ${(err as Error).message}`);
  }
  databaseUrl = postgres!.url;
  say(`private postgres pid ${postgres!.pid} on 127.0.0.1:${postgres!.port}, data in ${postgres!.dir}`);
}

const childEnv = { ...process.env, REDIS_URL: redisUrl, DATABASE_URL: databaseUrl };
const children = new Map<string, ChildProcess>();
let stopping = false;
const restarts: Record<string, number[]> = {};

function run(name: 'server' | 'worker') {
  const entry = name === 'server' ? 'main.ts' : 'worker.ts';
  const child = spawn(process.execPath, [join(root, 'server', entry)], { env: childEnv, stdio: 'inherit' });
  children.set(name, child);
  child.on('exit', (code, signal) => {
    children.delete(name);
    if (stopping) return;
    const now = Date.now();
    const recent = (restarts[name] = (restarts[name] ?? []).filter((t) => now - t < 60_000));
    if (code === 1 && recent.length === 0 && now - started < 10_000) {
      // failed at start (bad config, port taken): no point retrying
      void stop(1, `${name} failed to start`);
      return;
    }
    if (recent.length >= 5) {
      void stop(1, `${name} crashed 5 times in a minute; giving up`);
      return;
    }
    recent.push(now);
    say(`${name} exited (${signal ?? code}); restarting in 1 s`);
    setTimeout(() => !stopping && run(name), 1000).unref();
  });
}

async function stop(code: number, why: string) {
  if (stopping) return;
  stopping = true;
  say(`stopping (${why})`);
  await Promise.all(
    [...children.values()].map(
      (c) =>
        new Promise<void>((res) => {
          if (c.exitCode !== null || c.signalCode !== null) return res();
          c.once('exit', () => res());
          c.kill('SIGTERM');
          setTimeout(() => c.kill('SIGKILL'), config.SHUTDOWN_TIMEOUT_MS + 6_000).unref();
        }),
    ),
  );
  if (postgres) {
    await postgres.stop();
    say('private postgres stopped');
  }
  if (redis) {
    await redis.stop();
    say('private redis-server stopped');
  }
  process.exit(code);
}

const started = Date.now();
run('server');
run('worker');
say(`Active Citizen starting on http://localhost:${config.PORT} (Ctrl-C to stop)`);
process.on('SIGTERM', () => void stop(0, 'SIGTERM'));
process.on('SIGINT', () => void stop(0, 'SIGINT'));
process.on('SIGHUP', () => void stop(0, 'SIGHUP'));
