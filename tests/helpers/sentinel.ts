import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { findRedisServer, freePort, startRedisServer, type RedisServerHandle } from '../../server/redis/redis-server.ts';
import { until } from './processes.ts';

const NAME = 'acmaster';

/** A short-lived client for one question to one process. */
async function ask<T>(port: number, fn: (r: Redis) => Promise<T>): Promise<T> {
  const r = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 1000, commandTimeout: 2000 });
  r.on('error', () => {});
  try {
    await r.connect();
    return await fn(r);
  } finally {
    r.disconnect();
  }
}

const fields = (flat: string[]) => {
  const o: Record<string, string> = {};
  for (let i = 0; i < flat.length; i += 2) o[flat[i]] = flat[i + 1];
  return o;
};

export type SentinelGroup = {
  name: string;
  /** REDIS_SENTINELS for the platform. */
  sentinels: string;
  /** The master's port, as the sentinels see it. */
  masterPort: () => Promise<number>;
  /** kill -9 of the current master; resolves with its port once it is dead. */
  killMaster: () => Promise<number>;
  /** Until every sentinel names the same master other than `oldPort` and it says it is one; its port. */
  failedOver: (oldPort: number) => Promise<number>;
  /** Restart the node on `port` (same data dir) as a replica of the current master, and wait until the sentinels count it in sync. */
  rejoin: (port: number) => Promise<void>;
  destroy: () => Promise<void>;
};

/**
 * A master, one replica and three sentinels (quorum 2), all local on free ports, started as an operator
 * would. Failure detection is tuned down (1 s) so a failover takes seconds, not the default 30 s.
 */
export async function startSentinelGroup(label: string): Promise<SentinelGroup> {
  const root = mkdtempSync(join(tmpdir(), `ac-sentinel-${label}-`));
  const nodes = new Map<number, RedisServerHandle>();
  const sentinelProcs: ChildProcess[] = [];
  const sentinelPorts: number[] = [];
  const startNode = async (port: number, replicaOf?: number) => {
    const dir = join(root, `node-${port}`);
    const h = await startRedisServer({ dir, port, appendfsync: 'everysec', extraArgs: replicaOf ? ['--replicaof', '127.0.0.1', String(replicaOf)] : [] });
    nodes.set(port, h);
    return h;
  };
  /**
   * The master every sentinel names, once that node says it is a master: a failover is over only then (one
   * sentinel can name the new master while the others still name the old one, and a node restarted as a
   * replica of a master not all of them know may never be counted in). Null while they disagree.
   */
  const agreedMaster = async (saw: (s: string) => void): Promise<number | null> => {
    const named = await Promise.all(
      sentinelPorts.map((sp) => ask(sp, (r) => r.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', NAME) as Promise<[string, string] | null>).then((a) => (a ? Number(a[1]) : null), () => null)),
    );
    saw(`sentinels name ${JSON.stringify(named)}`);
    if (named[0] === null || named.some((p) => p !== named[0])) return null;
    const role = await ask(named[0], (r) => r.info('replication')).catch(() => '');
    saw(`sentinels name :${named[0]}, whose ${/role:\w+/.exec(role)?.[0] ?? 'INFO did not answer'}`);
    return /role:master/.test(role) ? named[0] : null;
  };
  const group: SentinelGroup = {
    name: NAME,
    sentinels: '',
    masterPort: async () => {
      for (const sp of sentinelPorts) {
        try {
          const addr = (await ask(sp, (r) => r.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', NAME))) as [string, string] | null;
          if (addr) return Number(addr[1]);
        } catch {
          /* ask the next one */
        }
      }
      throw new Error('no sentinel answered');
    },
    killMaster: async () => {
      const port = await group.masterPort();
      const h = nodes.get(port)!;
      const exited = new Promise((res) => h.process.once('exit', res));
      h.process.kill('SIGKILL');
      await exited;
      return port;
    },
    failedOver: async (oldPort) => {
      let seen = '';
      return until(async () => {
        const p = await agreedMaster((s) => (seen = s));
        return p !== null && p !== oldPort ? p : null;
      }, 60_000, 100).catch((err: Error) => {
        throw new Error(`${err.message}; last seen: ${seen}`);
      });
    },
    rejoin: async (port) => {
      let seen = '';
      const master = await until(() => agreedMaster((s) => (seen = s)), 60_000, 100).catch((err: Error) => {
        throw new Error(`no master all sentinels agree on: ${err.message}; last seen: ${seen}`);
      });
      await startNode(port, master);
      await until(async () => {
        const info = await ask(port, (r) => r.info('replication'));
        seen = info.split('\r\n').filter((l) => /^(role|master_port|master_link_status|master_sync_in_progress):/.test(l)).join(' ');
        return /master_link_status:up/.test(info);
      }, 60_000, 100).catch((err: Error) => {
        throw new Error(`replica link to :${master} never up: ${err.message}; last seen: ${seen}`);
      });
      // every sentinel sees it as a healthy replica of the master (a candidate for the next failover)
      await until(async () => {
        for (const sp of sentinelPorts) {
          const replicas = (await ask(sp, (r) => r.call('SENTINEL', 'REPLICAS', NAME))) as string[][];
          const me = replicas.map(fields).find((f) => Number(f.port) === port);
          seen = `sentinel :${sp}: ${me ? `flags ${me.flags}, link ${me['master-link-status']}` : 'does not list it'}`;
          if (!me || me.flags !== 'slave' || me['master-link-status'] !== 'ok') return false;
        }
        return true;
      }, 60_000, 200).catch((err: Error) => {
        throw new Error(`sentinels never counted it a healthy replica of :${master}: ${err.message}; last seen: ${seen}`);
      });
    },
    destroy: async () => {
      for (const p of sentinelProcs) p.kill('SIGKILL');
      await Promise.all([...nodes.values()].map((h) => h.stop('SIGKILL').catch(() => {})));
      rmSync(root, { recursive: true, force: true });
    },
  };
  try {
    const [mPort, rPort] = [await freePort(), await freePort()];
    await startNode(mPort);
    await startNode(rPort, mPort);
    const bin = findRedisServer()!;
    for (let i = 0; i < 3; i++) {
      const port = await freePort();
      const dir = join(root, `sentinel-${port}`);
      mkdirSync(dir);
      const conf = join(dir, 'sentinel.conf');
      writeFileSync(
        conf,
        [
          `port ${port}`,
          'bind 127.0.0.1',
          `dir ${dir}`,
          'sentinel resolve-hostnames no',
          `sentinel monitor ${NAME} 127.0.0.1 ${mPort} 2`,
          `sentinel down-after-milliseconds ${NAME} 1000`,
          `sentinel failover-timeout ${NAME} 4000`,
          `sentinel parallel-syncs ${NAME} 1`,
          '',
        ].join('\n'),
      );
      sentinelProcs.push(spawn(bin, [conf, '--sentinel', '--loglevel', 'warning'], { stdio: 'ignore' }));
      sentinelPorts.push(port);
    }
    group.sentinels = sentinelPorts.map((p) => `127.0.0.1:${p}`).join(',');
    // the sentinels found each other and the replica
    await until(async () => {
      for (const sp of sentinelPorts) {
        const m = fields((await ask(sp, (r) => r.call('SENTINEL', 'MASTER', NAME))) as string[]);
        if (m['num-other-sentinels'] !== '2' || m['num-slaves'] !== '1') return false;
      }
      return /master_link_status:up/.test(await ask(rPort, (r) => r.info('replication')));
    }, 60_000, 200);
    return group;
  } catch (err) {
    await group.destroy();
    throw err;
  }
}
