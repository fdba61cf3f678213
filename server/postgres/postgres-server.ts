import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import pg from 'pg';
import { freePort, stopChild } from '../redis/redis-server.ts';

export type PostgresServerHandle = {
  /** postgres://… of the `database` asked for (created on first start). */
  url: string;
  port: number;
  pid: number;
  dir: string;
  process: ChildProcess;
  /** SIGINT = PostgreSQL's "fast" shutdown (rolls back open transactions, checkpoints), then wait. */
  stop: (signal?: NodeJS.Signals) => Promise<void>;
};

export class PostgresServerNotFound extends Error {}

/** Debian's binaries (/usr/lib/postgresql/<major>/bin, newest major first), else initdb on PATH. */
export function findPostgresBin(): string | undefined {
  const base = '/usr/lib/postgresql';
  if (existsSync(base)) {
    const majors = readdirSync(base).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a));
    for (const m of majors) if (existsSync(join(base, m, 'bin', 'initdb'))) return join(base, m, 'bin');
  }
  for (const d of (process.env.PATH ?? '').split(':')) if (d && existsSync(resolve(d, 'initdb')) && existsSync(resolve(d, 'postgres'))) return resolve(d);
  return undefined;
}

/** PostgreSQL refuses to run as root: as root, the server runs as the `postgres` system user. */
function runAs(): { uid: number; gid: number; prefix: string[] } | null {
  if (process.getuid?.() !== 0) return null;
  const r = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
  const g = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
  if (r.status !== 0 || g.status !== 0) throw new Error('running as root needs a `postgres` system user to run PostgreSQL as (apt-get install postgresql creates it)');
  return { uid: Number(r.stdout.trim()), gid: Number(g.stdout.trim()), prefix: ['setpriv', '--reuid=postgres', '--regid=postgres', '--init-groups', '--'] };
}

/**
 * Starts a private PostgreSQL child on 127.0.0.1 with data in `dir` (initdb on first run, a random
 * password kept in `dir/ac-password`), creates `database` if missing, resolves once it accepts queries.
 * `durable: false` (tests, bench) turns fsync off: fast; a killed server loses nothing, a machine crash may lose the cluster.
 */
export async function startPostgresServer(opts: {
  dir: string;
  port?: number;
  database?: string;
  durable?: boolean;
  /** Own process group: a signal to the launcher's group does not reach it, so the launcher stops it last. */
  detached?: boolean;
}): Promise<PostgresServerHandle> {
  const bin = findPostgresBin();
  if (!bin) {
    throw new PostgresServerNotFound(
      'PostgreSQL binaries not found (/usr/lib/postgresql/*/bin or initdb on PATH) and DATABASE_URL is not set: install PostgreSQL 15+ (Debian/Ubuntu: `apt-get install postgresql`, macOS: `brew install postgresql`) or set DATABASE_URL=postgres://user:pass@host:5432/db',
    );
  }
  const dir = resolve(opts.dir);
  const user = runAs();
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (user) {
    // As root the cluster runs as `postgres`, who must pass through DATA_DIR: the platform's own folder,
    // which the private Redis creates 0700 (its AOF is ballot-secret). Execute only, never listing.
    const parent = statSync(dirname(dir));
    if (parent.uid === process.getuid?.() && (parent.mode & 0o001) === 0) chmodSync(dirname(dir), (parent.mode & 0o777) | 0o011);
    chownSync(dir, user.uid, user.gid);
  }
  chmodSync(dir, 0o700);
  if (user && spawnSync(user.prefix[0]!, [...user.prefix.slice(1), 'test', '-w', dir]).status !== 0) {
    throw new Error(`the postgres user cannot reach ${dir}: make its parent directories traversable (chmod o+x) or set DATABASE_URL`);
  }
  const run = (cmd: string, args: string[]) => [...(user?.prefix ?? []), join(bin, cmd), ...args];

  const pwFile = join(dir, 'ac-password');
  if (!existsSync(join(dir, 'PG_VERSION'))) {
    const password = randomBytes(18).toString('base64url');
    const tmpPw = join(dir, '..', `.ac-pw-${process.pid}-${randomBytes(4).toString('hex')}`);
    writeFileSync(tmpPw, password, { mode: 0o600 });
    if (user) chownSync(tmpPw, user.uid, user.gid);
    const [cmd, ...args] = run('initdb', ['-D', dir, '-U', 'postgres', `--pwfile=${tmpPw}`, '--auth-host=scram-sha-256', '--auth-local=peer', '-E', 'UTF8', '--locale=C.UTF-8', '--no-instructions']);
    const r = spawnSync(cmd, args, { encoding: 'utf8' });
    spawnSync('rm', ['-f', tmpPw]);
    if (r.status !== 0) throw new Error(`initdb failed in ${dir}: ${(r.stderr || r.stdout || r.error?.message || '').trim().slice(-500)}`);
    writeFileSync(pwFile, password, { mode: 0o600 });
  }
  const password = readFileSync(pwFile, 'utf8').trim();
  const port = opts.port ?? (await freePort());
  const settings = [
    '-c', `port=${port}`, '-c', 'listen_addresses=127.0.0.1', '-c', `unix_socket_directories=${dir}`,
    '-c', 'max_connections=200', '-c', 'shared_buffers=128MB',
    // fsync off still write()s the WAL at every commit: a killed server loses nothing committed, only a
    // crash of the machine can (synchronous_commit stays on for that reason)
    ...(opts.durable === false ? ['-c', 'fsync=off', '-c', 'full_page_writes=off'] : []),
  ];
  const [cmd, ...args] = run('postgres', ['-D', dir, ...settings]);
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: opts.detached ?? false });
  let output = '';
  const keep = (d: Buffer) => { if (output.length < 20_000) output += d; };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((res) => child.once('exit', () => res()));
  const base = `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`postgres exited at start: ${output.trim().slice(-800)}`);
    const probe = new pg.Client({ connectionString: `${base}/postgres`, connectionTimeoutMillis: 1000 });
    probe.on('error', () => {});
    try {
      await probe.connect();
      await probe.query('select 1');
      if (opts.database && opts.database !== 'postgres') {
        const has = await probe.query('select 1 from pg_database where datname = $1', [opts.database]);
        // an identifier cannot be a bind parameter; the name is checked to be a plain identifier
        if (!/^[a-z_][a-z0-9_]{0,62}$/.test(opts.database)) throw new Error(`database name "${opts.database}": lower-case letters, digits, _`);
        if (!has.rowCount) await probe.query(`create database ${opts.database}`);
      }
      await probe.end();
      break;
    } catch (err) {
      await probe.end().catch(() => {});
      if (/database name/.test((err as Error).message)) throw err;
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`postgres did not accept connections within 30 s: ${output.trim().slice(-800)}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url: `${base}/${opts.database ?? 'postgres'}`,
    port,
    pid: child.pid!,
    dir,
    process: child,
    stop: (signal: NodeJS.Signals = 'SIGINT') => stopChild(child, exited, signal, 15_000),
  };
}
