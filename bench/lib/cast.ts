import type { AppContext } from '../../server/context.ts';
import { createRedis, defineScripts, closeRedis, type Redis } from '../../server/redis/connection.ts';
import { createBallotStore } from '../../server/ballots/ballot.store.ts';
import { ballotIds } from '../../server/ballots/ballot-ids.ts';
import { ballotTallyFields } from '../../server/ballots/tally-fields.ts';
import { createPointsStore } from '../../server/points/points.store.ts';
import { ageBandOf } from '../../shared/polls.ts';
import { BENCH_SECRET } from './platform.ts';
import { syntheticResident } from './polls.ts';
import { progress } from './util.ts';

/** Answers/tally fields of a few ballot shapes, prepared as the ballot service prepares them for the script. */
const SHAPES = (
  [
    { q1: ['o1'], q2: ['o1'] },
    { q1: ['o2'], q2: ['o2', 'o3'] },
    { q1: ['o3'], q2: ['o4'], q3: ['yes'] },
    { q1: ['o1'], q2: ['o1', 'o4'], q3: ['no'] },
  ] as Record<string, string[]>[]
).map((answers) => ({
  json: JSON.stringify(answers),
  fields: ballotTallyFields(Object.keys(answers).map((id) => ({ id })), answers).fields,
}));

/**
 * Several command connections (each with the project's scripts defined): with `appendfsync always`
 * Redis fsyncs once per event-loop turn and reads at most 16 KB per client per turn, so one
 * auto-pipelined connection caps bulk seeding at a few thousand scripts a second.
 */
export function connectionPool(url: string, n: number): Redis[] {
  return Array.from({ length: n }, (_, i) => defineScripts(createRedis(url, { name: `bench-seed-${i}` })));
}
export async function closePool(pool: Redis[]) {
  await Promise.all(pool.map((r) => closeRedis(r)));
}

async function run(n: number, concurrency: number, label: string, one: (i: number) => Promise<void>): Promise<number> {
  let next = 0;
  let done = 0;
  const t0 = Date.now();
  let last = t0;
  const worker = async () => {
    for (;;) {
      const i = next++;
      if (i >= n) return;
      await one(i);
      done++;
      if (Date.now() - last > 3000) {
        last = Date.now();
        progress(`${label}: ${done}/${n} (${Math.round(done / ((last - t0) / 1000))}/s)`);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, n) }, worker));
  return (Date.now() - t0) / 1000;
}

/**
 * Ballots through the project's own Lua path (the ballot store's cast-ballot script, as the ballot service's cast
 * calls it: keyed receipt and voter hash, answers JSON, district and age band, tally fields), spread over
 * a pool of connections. No per-vote points job (the HTTP phases exercise that).
 */
export async function seedBallots(ctx: AppContext, pool: Redis[], pollId: number, userIds: ArrayLike<number>, label: string): Promise<{ seconds: number; perSec: number }> {
  const stores = pool.map((r) => createBallotStore(r, ctx.keys));
  const year = new Date().getUTCFullYear();
  const seconds = await run(userIds.length, 400 * pool.length, label, async (i) => {
    const id = userIds[i];
    const u = syntheticResident(id);
    const s = SHAPES[id % SHAPES.length];
    const out = await stores[i % stores.length].cast(pollId, 1, id, {
      ...ballotIds(BENCH_SECRET, pollId, id),
      answersJson: s.json,
      district: u.district!,
      ageBand: ageBandOf(u.birthYear, year),
      tallyFields: s.fields,
    });
    if (out.kind !== 'ok') throw new Error(`${label}: ballot of user ${id}: ${out.kind}`);
  });
  return { seconds, perSec: userIds.length / seconds };
}

/**
 * The per-vote points awards as the per-vote jobs make them: the project's award script, then the
 * voter's bit in the poll's awarded bitmap.
 */
export async function seedAwards(ctx: AppContext, pool: Redis[], pollId: number, userIds: ArrayLike<number>, points: number, label: string): Promise<{ seconds: number }> {
  const stores = pool.map((r) => ({ points: createPointsStore(r, ctx.keys), ballots: createBallotStore(r, ctx.keys) }));
  const shards = (await ctx.polls.get(pollId))!.shards;
  const seconds = await run(userIds.length, 400 * pool.length, label, async (i) => {
    const st = stores[i % stores.length];
    await st.points.award(userIds[i], 'vote', String(pollId), points);
    await st.ballots.markAwarded(pollId, shards, [userIds[i]]);
  });
  return { seconds };
}
