import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Cluster } from 'ioredis';
import { startRedisServer } from '../../server/redis/redis-server.ts';
import { startRedisCluster } from '../../server/redis/redis-cluster.ts';
import { createRedis, defineScripts, closeRedis, type Redis } from '../../server/redis/connection.ts';
import { createKeys } from '../../server/redis/keys.ts';
import { createBallotStore } from '../../server/ballots/ballot.store.ts';
import { createPollStore } from '../../server/polls/poll.store.ts';
import { ballotIds } from '../../server/ballots/ballot-ids.ts';
import { ageBandOf } from '../../shared/polls.ts';
import { BENCH_PREFIX, BENCH_SECRET } from '../lib/platform.ts';
import { syntheticResident } from '../lib/polls.ts';
import { cpuMsOf, loadNow, progress, round } from '../lib/util.ts';

export type CastRun = { redis: string; masters: number; shards: number; ballots: number; seconds: number; ballotsPerSec: number; redisCpuPerBallotUs: number; perMasterCpuPerBallotUs: number[]; clientCpuPerBallotUs: number; load: string };

const POLL = 1;
const FIELDS = ['a:q1', 'o:q1:o2', 'a:q2', 'o:q2:o1', 'o:q2:o3'];
const ANSWERS = '{"q1":["o2"],"q2":["o1","o3"]}';

/**
 * The vote path's Redis step alone (the project's ballot store and cast script, keyed ids computed as the
 * server does, award queueing on) from this process at max rate, against one redis-server and against a
 * local Redis Cluster of 3 masters, both AOF `appendfsync always`, a poll of S shards. What the HTTP
 * platform would do per ballot on a cluster, without the HTTP server (the platform runs on one Redis).
 */
export async function clusterCastPhase(o: { seconds: number; concurrency: number; shards: number }): Promise<{ single: CastRun; cluster: CastRun }> {
  const keys = createKeys(BENCH_PREFIX);
  const dir = mkdtempSync(join(tmpdir(), 'ac-bench-cluster-'));
  try {
    const one = await startRedisServer({ dir: join(dir, 'single'), appendfsync: 'always' });
    let single: CastRun;
    try {
      const pool = Array.from({ length: 4 }, (_, i) => defineScripts(createRedis(one.url, { name: `bench-cast-${i}` })));
      single = await castRun('one redis-server', pool, [one.pid], keys, o);
      await Promise.all(pool.map((r) => closeRedis(r)));
    } finally {
      await one.stop();
    }
    const cl = await startRedisCluster({ dir: join(dir, 'cluster'), masters: 3, appendonly: true, appendfsync: 'always' });
    let cluster: CastRun;
    try {
      const pool = Array.from({ length: 4 }, () => {
        const c = new Cluster(cl.servers.map((s) => ({ host: '127.0.0.1', port: s.port })), { enableAutoPipelining: true, redisOptions: { maxRetriesPerRequest: 2 } });
        c.on('error', () => {});
        return defineScripts(c as unknown as Redis);
      });
      cluster = await castRun('3-master Redis Cluster', pool, cl.servers.map((s) => s.pid), keys, o);
      pool.forEach((c) => c.disconnect());
    } finally {
      await cl.stop();
    }
    return { single, cluster };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function castRun(label: string, pool: Redis[], pids: number[], keys: ReturnType<typeof createKeys>, o: { seconds: number; concurrency: number; shards: number }): Promise<CastRun> {
  const now = Date.now();
  await createPollStore(pool[0], keys).writeShardWindows(POLL, o.shards, now - 60_000, now + 3_600_000);
  const stores = pool.map((r) => createBallotStore(r, keys));
  const year = new Date().getUTCFullYear();
  let next = 1;
  let ok = 0;
  const cpu0 = pids.map(cpuMsOf);
  const me0 = process.cpuUsage();
  const load = loadNow();
  const t0 = performance.now();
  const until = t0 + o.seconds * 1000;
  const worker = async (w: number) => {
    while (performance.now() < until) {
      const id = next++;
      const u = syntheticResident(id);
      const out = await stores[w % stores.length].cast(POLL, o.shards, id, {
        ...ballotIds(BENCH_SECRET, POLL, id),
        answersJson: ANSWERS,
        district: u.district!,
        ageBand: ageBandOf(u.birthYear, year),
        tallyFields: FIELDS,
        awardPoints: true,
      });
      if (out.kind === 'ok') ok++;
    }
  };
  await Promise.all(Array.from({ length: o.concurrency }, (_, w) => worker(w)));
  const seconds = (performance.now() - t0) / 1000;
  const perMaster = pids.map((pid, i) => round(((cpuMsOf(pid) - cpu0[i]) * 1000) / Math.max(1, ok), 1));
  const me = process.cpuUsage(me0);
  const r: CastRun = {
    redis: label,
    masters: pids.length,
    shards: o.shards,
    ballots: ok,
    seconds: round(seconds, 2),
    ballotsPerSec: round(ok / seconds, 0),
    redisCpuPerBallotUs: round(perMaster.reduce((a, b) => a + b, 0), 1),
    perMasterCpuPerBallotUs: perMaster,
    clientCpuPerBallotUs: round((me.user + me.system) / Math.max(1, ok), 1),
    load,
  };
  progress(`cast path on ${label} (S=${o.shards}): ${ok} ballots in ${r.seconds} s = ${r.ballotsPerSec}/s; redis-server CPU per ballot ${r.redisCpuPerBallotUs} µs (per master ${perMaster.join(' / ')}), client ${r.clientCpuPerBallotUs} µs; load ${load}`);
  return r;
}
