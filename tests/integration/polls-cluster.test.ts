import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Cluster, Redis as IORedis } from 'ioredis';
import { startRedisServer, type RedisServerHandle } from '../../server/redis/redis-server.ts';
import { defineScripts, type Redis } from '../../server/redis/connection.ts';
import { createKeys } from '../../server/redis/keys.ts';
import { createPollsDomain, type PollsDomain } from '../../server/polls/polls.module.ts';
import { testContext, testLogger, uniquePrefix } from '../helpers/context.ts';
import { createTestUser } from '../helpers/users.ts';
import { pollBody } from '../helpers/polls.ts';
import { until } from '../helpers/processes.ts';
import type { AppContext } from '../../server/context.ts';
import type { User } from '../../shared/users.ts';

const NODES = 3;
const SLOTS = 16384;
const ownerOf = (slot: number) => Math.min(NODES - 1, Math.floor(slot / Math.ceil(SLOTS / NODES)));

/**
 * The poll key layout on a real 3-node Redis Cluster: every multi-key step (the cast script, the CAS on
 * a shard state) stays on one slot, a sharded poll spreads over nodes, readers add shards up across
 * nodes. Users, sessions and queues stay on the run's ordinary redis-server.
 */
describe('polls on a real Redis Cluster (3 masters)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ac-cluster-'));
  const servers: RedisServerHandle[] = [];
  let cluster: Cluster;
  let ctx: AppContext;
  let domain: PollsDomain;
  let polls: PollsDomain['polls'];
  let ballots: PollsDomain['ballots'];
  let pollViews: PollsDomain['pollViews'];
  let mod: User;
  const keys = createKeys(uniquePrefix('cl'));

  beforeAll(async () => {
    for (let i = 0; i < NODES; i++) {
      servers.push(
        await startRedisServer({
          dir: join(dir, `n${i}`),
          appendonly: false,
          extraArgs: ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-node-timeout', '2000'],
        }),
      );
    }
    const admins = servers.map((s) => new IORedis(s.url, { maxRetriesPerRequest: 2 }));
    const per = Math.ceil(SLOTS / NODES);
    for (let i = 0; i < NODES; i++) await admins[i].call('CLUSTER', 'ADDSLOTSRANGE', String(i * per), String(Math.min(SLOTS, (i + 1) * per) - 1));
    for (let i = 1; i < NODES; i++) await admins[0].call('CLUSTER', 'MEET', '127.0.0.1', String(servers[i].port));
    await until(async () => {
      for (const a of admins) {
        const info = (await a.call('CLUSTER', 'INFO')) as string;
        if (!/cluster_state:ok/.test(info) || !new RegExp(`cluster_known_nodes:${NODES}`).test(info)) return false;
      }
      return true;
    }, 20_000, 100);
    admins.forEach((a) => a.disconnect());

    cluster = new Cluster(servers.map((s) => ({ host: '127.0.0.1', port: s.port })), { enableAutoPipelining: true, redisOptions: { maxRetriesPerRequest: 2 } });
    cluster.on('error', () => {});
    defineScripts(cluster as unknown as Redis);
    ctx = testContext();
    domain = createPollsDomain({ redis: cluster as unknown as Redis, keys, config: ctx.config, logger: testLogger, queues: ctx.queues, realtime: ctx.realtime });
    ({ polls, ballots, pollViews } = domain);
    mod = (await createTestUser(ctx, { roles: ['moderator'] })).user;
  }, 60_000);

  afterAll(async () => {
    await domain?.closePolls();
    cluster?.disconnect();
    await ctx?.close();
    for (const s of servers) await s.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('when a poll with S=4 runs on the cluster, then its shards live on several nodes and every step works: cast, dedupe, results, versions, integrity, voterIds, close, finalise', async () => {
    const draft = await polls.create(pollBody({ shards: 4, points: 0 }), mod);
    await polls.update(draft.id, { title: 'Clustered park poll' });
    const poll = await polls.publish(draft.id);
    expect(poll.status).toBe('active');

    const slots = await Promise.all([0, 1, 2, 3].map(async (k) => Number(await cluster.call('CLUSTER', 'KEYSLOT', keys.pollVoters(poll.id, k)))));
    expect(new Set(slots).size).toBe(4);
    expect(new Set(slots.map(ownerOf)).size).toBeGreaterThan(1);
    // the cluster really refuses a multi-key step across shards (so the passes below mean something)
    await expect(cluster.call('MGET', keys.pollVoters(poll.id, 0), keys.pollVoters(poll.id, 1))).rejects.toThrow(/CROSSSLOT|MOVED|same slot/);

    const voters: User[] = [];
    for (let i = 0; i < 200; i++) voters.push((await ctx.users.getOrCreateByPhone(`+7966${String(i).padStart(7, '0')}`)).user);
    const answers = (i: number) => ({ q1: [`o${(i % 3) + 1}`], q2: ['o1', 'o2'].slice(0, (i % 2) + 1) });
    await Promise.all(voters.map((u, i) => ballots.cast(poll.id, u, { answers: answers(i) })));
    // a second ballot from anyone is refused with the same receipt, whichever node holds their shard
    for (const u of voters.slice(0, 8)) await expect(ballots.cast(poll.id, u, { answers: answers(0) })).rejects.toMatchObject({ code: 'already_voted', details: { receipt: expect.any(String) } });

    const integrity = await ballots.integrity(poll.id);
    expect(integrity).toMatchObject({ votersMarked: 200, ledgerLength: 200, ballots: 200, ok: true });
    const results = await ballots.results(poll.id);
    expect(results.questions[0].options.map((o) => o.count)).toEqual([67, 67, 66]);
    expect(results.questions[1].options.map((o) => o.count)).toEqual([200, 100, 0, 0]);
    expect(await ballots.tallyVersions([poll.id])).toEqual([200]);
    expect(await ballots.hasVoted(poll.id, voters[5].id)).toBe(true);
    const walked: number[] = [];
    for await (const chunk of ballots.voterIds(poll.id)) walked.push(...chunk);
    expect(new Set(walked)).toEqual(new Set(voters.map((u) => u.id)));
    expect((await pollViews.list(mod, { status: 'active', limit: 10 })).map((p) => p.id)).toEqual([poll.id]);

    expect(await polls.close(poll.id)).toBe(true);
    const late = (await ctx.users.getOrCreateByPhone('+79669999999')).user;
    await expect(ballots.cast(poll.id, late, { answers: answers(0) })).rejects.toMatchObject({ code: 'poll_closed' });
    const final = await polls.markFinalised(poll.id, { results: await ballots.results(poll.id) });
    expect(final.results.ballots).toBe(200);
    expect(await polls.getFinal(poll.id)).toEqual(final);
    expect((await polls.get(poll.id))?.status).toBe('finalised');
  });
});
