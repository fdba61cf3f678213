import { join } from 'node:path';
import { Redis } from 'ioredis';
import { startRedisServer, type RedisServerHandle } from './redis-server.ts';

const SLOTS = 16384;

/**
 * A local Redis Cluster of `masters` private redis-servers (no replicas), the slots split evenly, for
 * tests and the bench: proves the hash-tagged key layout on real nodes. Resolves once every node reports
 * `cluster_state:ok` and knows the others.
 */
export async function startRedisCluster(opts: { dir: string; masters?: number; appendonly?: boolean; appendfsync?: 'always' | 'everysec' | 'no' }): Promise<{ servers: RedisServerHandle[]; stop: () => Promise<void> }> {
  const n = opts.masters ?? 3;
  const servers: RedisServerHandle[] = [];
  for (let i = 0; i < n; i++) {
    servers.push(
      await startRedisServer({
        dir: join(opts.dir, `n${i}`),
        appendonly: opts.appendonly ?? false,
        appendfsync: opts.appendfsync,
        extraArgs: ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-node-timeout', '2000'],
      }),
    );
  }
  const admins = servers.map((s) => new Redis(s.url, { maxRetriesPerRequest: 2 }));
  try {
    const per = Math.ceil(SLOTS / n);
    for (let i = 0; i < n; i++) await admins[i].call('CLUSTER', 'ADDSLOTSRANGE', String(i * per), String(Math.min(SLOTS, (i + 1) * per) - 1));
    for (let i = 1; i < n; i++) await admins[0].call('CLUSTER', 'MEET', '127.0.0.1', String(servers[i].port));
    const deadline = Date.now() + 20_000;
    for (;;) {
      const infos = await Promise.all(admins.map((a) => a.call('CLUSTER', 'INFO') as Promise<string>));
      if (infos.every((info) => /cluster_state:ok/.test(info) && new RegExp(`cluster_known_nodes:${n}`).test(info))) break;
      if (Date.now() > deadline) throw new Error('local Redis Cluster did not reach cluster_state:ok within 20 s');
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    admins.forEach((a) => a.disconnect());
  }
  return {
    servers,
    stop: async () => {
      for (const s of servers) await s.stop();
    },
  };
}
