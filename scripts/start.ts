// `npm start`: the whole platform on one machine. Starts a private redis-server (AOF on, data under
// DATA_DIR) unless REDIS_URL or REDIS_SENTINELS is set, a private PostgreSQL (data under DATA_DIR/postgres)
// unless DATABASE_URL is set, then the server and the worker as child processes, and supervises them all
// (scripts/supervisor.ts): a child that dies is started again (a store on the same port, replaying its
// AOF or WAL); the server and worker reconnect by themselves. SIGTERM/SIGINT/SIGHUP stops them in order:
// server and worker drain, then PostgreSQL checkpoints and exits, then Redis fsyncs and exits.
//
// Every child runs in its own process group, so a signal to the whole group (Ctrl-C, a process
// manager killing the group) reaches only this launcher and npm; the launcher then stops the
// children in that order. A second signal to a child would kill it mid-drain.
import { spawn, type ChildProcess } from 'node:child_process';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig, ConfigError, type Config } from '../server/config.ts';
import { redisTarget } from '../server/redis/connection.ts';
import { startRedisServer, freePort, RedisServerNotFound } from '../server/redis/redis-server.ts';
import { buildWeb } from './build-web.ts';
import { supervise, type ChildHandle, type Supervised } from './supervisor.ts';
import { startPostgresServer, PostgresServerNotFound } from '../server/postgres/postgres-server.ts';

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

/** Children in start order; stopped in reverse (stores last). `stopped`: the line said once a store stopped. */
const supervised: (Supervised<ChildHandle> & { stopped?: string })[] = [];
let stopping = false;
const childEnv: NodeJS.ProcessEnv = { ...process.env };

/** Restart counts of every supervised child, for the server's /metrics. */
const restartCounts = () => Object.fromEntries(supervised.map((s) => [s.name, s.restarts()]));
const reportRestarts = () => {
  const server = supervised.find((s) => s.name === 'server')?.handle().process;
  if (server?.connected) server.send({ type: 'supervisor:restarts', counts: restartCounts() }, () => {});
};

const giveUp = (why: string) => void stop(1, why);
// before any child starts: a signal during start-up must still stop what has started
for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(sig, () => void stop(0, sig));

// ---- private stores: each a supervised child on a fixed port (a restart comes back where the services
// expect it), its address passed to the services through their environment ----
type StoreHandle = ChildHandle & { pid: number; url: string; dir: string };

/** Start and supervise one private store; exits with its one-line reason if it cannot start at all. */
async function superviseStore<H extends StoreHandle>(name: string, bin: string, start: () => Promise<H>, describe: (h: H) => string): Promise<H> {
  try {
    const store = await supervise({
      name,
      start,
      say,
      giveUp,
      onStarted: (h, n) => {
        const where = h.url.replace(/\/\/[^@]*@/, '//***@'); // the private postgres's password stays in its data dir
        say(n === 0 ? `private ${bin} pid ${h.pid} on ${where}, data in ${h.dir} (${describe(h)})` : `private ${bin} restarted (pid ${h.pid}, restart ${n})`);
        reportRestarts();
      },
    });
    supervised.push(Object.assign(store, { stopped: `private ${bin} stopped` }));
    return store.handle();
  } catch (err) {
    const why = err instanceof RedisServerNotFound || err instanceof PostgresServerNotFound ? err.message : `could not start ${bin}: ${(err as Error).message}`;
    if (!supervised.length) return fail(why); // nothing started yet: the one line says it all
    process.stderr.write(`[start] ${why}\n`);
    // the stores started before this one are detached: stop them rather than leave them running
    await stop(1, `${name} did not start`);
    return new Promise<never>(() => {}); // a stop already under way exits the process
  }
}

const target = redisTarget(config);
if (!target) {
  const port = await freePort();
  const dir = join(config.DATA_DIR, 'redis');
  const redis = await superviseStore(
    'redis',
    'redis-server',
    // the AOF in `dir` is replayed at each start: a restart after a crash has every acknowledged write
    () => startRedisServer({ dir, port, appendfsync: config.REDIS_APPENDFSYNC, detached: true }),
    () => `AOF, appendfsync ${config.REDIS_APPENDFSYNC}`,
  );
  childEnv.REDIS_URL = redis.url;
} else if (typeof target === 'string') {
  say(`using REDIS_URL ${target.replace(/\/\/[^@]*@/, '//***@')}`);
} else {
  say(`using Redis Sentinel master "${target.name}" via ${target.sentinels.map((s) => `${s.host}:${s.port}`).join(', ')}`);
}

// Our City's PostgreSQL: a private one (Debian's binaries, data under DATA_DIR/postgres) unless DATABASE_URL is
// set. A restart after a crash replays the WAL: every committed report is there.
if (!config.DATABASE_URL && !stopping) {
  const port = await freePort();
  const dir = join(config.DATA_DIR, 'postgres');
  const postgres = await superviseStore(
    'postgres',
    'postgres',
    () => startPostgresServer({ dir, port, database: 'active_citizen', detached: true }),
    () => 'WAL, fsync on',
  );
  childEnv.DATABASE_URL = postgres.url;
}

// ---- services ----
function nodeChild(name: 'server' | 'worker'): () => Promise<ChildHandle> {
  const entry = name === 'server' ? 'main.ts' : 'worker.ts';
  return async () => {
    // the IPC channel carries restart counts to the server, and tells either child when this launcher is gone
    const child: ChildProcess = spawn(process.execPath, [join(root, 'server', entry)], {
      env: childEnv,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      detached: true,
    });
    const exited = new Promise<void>((res) => child.once('exit', () => res()));
    child.on('message', (m: { type?: unknown }) => m?.type === 'supervisor:hello' && reportRestarts());
    return {
      process: child,
      stop: async () => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        child.kill('SIGTERM');
        const force = setTimeout(() => child.kill('SIGKILL'), config.SHUTDOWN_TIMEOUT_MS + 6_000);
        await exited;
        clearTimeout(force);
      },
    };
  };
}

for (const name of ['server', 'worker'] as const) {
  if (stopping) break;
  supervised.push(
    await supervise({
      name,
      start: nodeChild(name),
      say,
      giveUp,
      firstFailureIsFatal: true,
      backoffMs: { base: 1_000, max: 5_000 },
      onStarted: (_h, n) => {
        if (n > 0) say(`${name} restarted (restart ${n})`);
        reportRestarts();
      },
    }),
  );
}

async function stop(code: number, why: string) {
  if (stopping) return;
  stopping = true;
  say(`stopping (${why})`);
  const stores = supervised.filter((s) => s.stopped);
  await Promise.all(supervised.filter((s) => !s.stopped).map((s) => s.stop()));
  for (const store of stores.reverse()) {
    await store.stop();
    say(store.stopped!);
  }
  process.exit(code);
}

say(`Active Citizen starting on http://localhost:${config.PORT} (launcher pid ${process.pid}; Ctrl-C to stop)`);
