import { chmodSync, mkdtempSync, rmSync, readdirSync, existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../server/redis/redis-server.ts';
import { startPostgresServer, type PostgresServerHandle } from '../../server/postgres/postgres-server.ts';
import { sleep } from './faults.ts';

/**
 * A PostgreSQL of one fault test file: its own data dir, a FIXED port so a restart after kill -9 comes back
 * where the pools expect it.
 */
export type FaultPostgres = { url: string; dir: string; handle: PostgresServerHandle; kill9: () => Promise<void>; restart: () => Promise<void>; destroy: () => Promise<void> };

export async function faultPostgres(label: string): Promise<FaultPostgres> {
  const root = mkdtempSync(join(tmpdir(), `ac-faults-pg-${label}-`));
  chmodSync(root, 0o711); // as root, the server runs as `postgres` and must reach its data dir in here
  const dir = join(root, 'data');
  const port = await freePort();
  const start = () => startPostgresServer({ dir, port, database: 'ac', durable: false });
  const p: FaultPostgres = {
    url: '',
    dir,
    handle: await start(),
    /** SIGKILL the postmaster and every backend (what an OOM kill or a crash of the box does). */
    async kill9() {
      const pid = p.handle.pid;
      let kids: number[] = [];
      try {
        kids = execFileSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' }).split('\n').filter(Boolean).map(Number);
      } catch {
        /* none */
      }
      const exited = new Promise((res) => p.handle.process.once('exit', res));
      for (const k of [pid, ...kids]) {
        try {
          process.kill(k, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
      await exited;
    },
    /** Start again on the same port and dir (crash recovery replays the WAL); retried while old backends let go of shared memory. */
    async restart() {
      for (let i = 0; ; i++) {
        try {
          p.handle = await start();
          return;
        } catch (err) {
          if (i > 50) throw err;
          await sleep(200);
        }
      }
    },
    async destroy() {
      await p.handle.stop('SIGKILL').catch(() => {});
      rmSync(root, { recursive: true, force: true });
    },
  };
  p.url = p.handle.url;
  return p;
}

/** Every photo file under a photo dir (names only). */
export function photoFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((d) => readdirSync(join(dir, d)));
}
