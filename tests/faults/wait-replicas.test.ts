import { describe, it, expect } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import type { AppContext } from '../../server/context.ts';
import { freePort, startRedisServer, type RedisServerHandle } from '../../server/redis/redis-server.ts';
import { until } from '../helpers/processes.ts';
import { faultContext, processRegistry, processEnv, spawnServer, makeVoters, makeStaff, publishViaApi, castHttp, expectedReceipt } from '../helpers/faults.ts';

describe('faults: REDIS_WAIT_REPLICAS', () => {
  it('when no replica acknowledges a ballot in time, then the answer is 503 unavailable, and once a replica holds it the retry gets 409 with the same receipt', async () => {
    const procs = processRegistry();
    const root = mkdtempSync(join(tmpdir(), 'ac-wait-'));
    const nodes: RedisServerHandle[] = [];
    let ctx: AppContext | undefined;
    try {
      const master = await startRedisServer({ dir: join(root, 'master'), appendfsync: 'everysec' });
      nodes.push(master);
      const prefix = 'f:wait:';
      ctx = faultContext(master.url, prefix);
      const server = procs.add(await spawnServer(processEnv(master.url, prefix, { REDIS_WAIT_REPLICAS: '1', REDIS_WAIT_TIMEOUT_MS: '200' }), await freePort()));
      const mod = await makeStaff(ctx, '+79990000004', ['moderator']);
      const pollId = await publishViaApi(server.url, mod.headers, { shards: 1, points: 0 });
      const [voter] = await makeVoters(ctx, 1, 600_000);
      const answers = { q1: ['o2'], q2: ['o1'] };

      // no replica at all: the ballot lands on the master but is not acknowledged
      const first = await castHttp(server.url, voter.headers, pollId, answers);
      console.log(`[wait] with no replica: ${first.status} ${first.code} after ${first.ms.toFixed(0)} ms`);
      expect(first.status).toBe(503);
      expect(first.code).toBe('unavailable');
      expect(await ctx.ballots.hasVoted(pollId, voter.user.id)).toBe(true);
      const again = await castHttp(server.url, voter.headers, pollId, answers);
      expect(again.status, 'a retry is acknowledged only once a replica holds the ballot').toBe(503);

      // a replica joins and catches up: the retry is acknowledged with the receipt of the first cast
      const replica = await startRedisServer({ dir: join(root, 'replica'), appendfsync: 'everysec', extraArgs: ['--replicaof', '127.0.0.1', String(master.port)] });
      nodes.push(replica);
      await until(async () => /master_link_status:up/.test(await replicaInfo(replica)), 30_000, 100);
      const retry = await castHttp(server.url, voter.headers, pollId, answers);
      console.log(`[wait] retry with a replica in sync: ${retry.status} ${retry.code} after ${retry.ms.toFixed(0)} ms`);
      expect(retry.status).toBe(409);
      expect(retry.code).toBe('already_voted');
      expect(retry.receipt).toBe(expectedReceipt(pollId, voter.user.id));
      const [other] = await makeVoters(ctx, 1, 600_100);
      const fresh = await castHttp(server.url, other.headers, pollId, answers);
      expect(fresh.status).toBe(201);
    } finally {
      await procs.killAll();
      await ctx?.close().catch(() => {});
      for (const n of nodes) await n.stop('SIGKILL').catch(() => {});
      rmSync(root, { recursive: true, force: true });
    }
  });
});

async function replicaInfo(replica: RedisServerHandle): Promise<string> {
  const r = new Redis(replica.url, { maxRetriesPerRequest: 0 });
  r.on('error', () => {});
  try {
    return await r.info('replication');
  } finally {
    r.disconnect();
  }
}
