import { Job } from 'bullmq';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createOpenCountStore } from '../../server/integrity/open-count.store.ts';
import { exportLedger } from '../../server/integrity/ledger-export.ts';
import type { AppContext } from '../../server/context.ts';
import { lifecycleJobId } from '../../shared/jobs.ts';
import type { Platform } from '../lib/platform.ts';
import { publishedPoll } from '../lib/polls.ts';
import { connectionPool, closePool, seedBallots, seedAwards } from '../lib/cast.ts';
import { progress, sleep } from '../lib/util.ts';

export type FinaliseResult = {
  ballots: number;
  seedSeconds: number;
  seedPerSec: number;
  /** moderator's early close → the final snapshot stored (the worker's `finalise` job end to end). */
  seconds: number;
  /** The finalise job alone (processedOn → finishedOn). */
  jobSeconds: number;
  swept: number;
  awarded: number;
  /** The published ledger of the same poll, exported on its own (what finalise adds when `publicLedger` is on). */
  exportSeconds: number;
  exportBytes: number;
  awardsDone: boolean;
  ok: boolean;
  note?: string;
};

/**
 * A poll with `n` ballots seeded through the project's own Lua path (the ballot store's cast-ballot
 * script, pipelined over a few connections; receipts and voter hashes keyed like the ballot service's cast), with
 * the vote points awards made through the award script (as the award batches make them) (`awardsDone`, the normal case) or not (the
 * worst case: the finalisation sweep makes every award), then a moderator's early close and the
 * worker's `finalise` job timed end to end.
 */
export async function finalisePhase(p: Platform, ctx: AppContext, n: number, o: { awardsDone: boolean }): Promise<FinaliseResult> {
  // publicLedger off: the target is close → snapshot; the ledger export is timed separately below
  const pollId = await publishedPoll(ctx, { publicLedger: false });
  const pool = connectionPool(p.redisUrl, 8);
  const ids = Int32Array.from({ length: n }, (_, i) => i + 1);
  let seedSeconds: number;
  let awardSeconds = 0;
  try {
    seedSeconds = (await seedBallots(ctx, pool, pollId, ids, 'finalise: seeding ballots')).seconds;
    progress(`finalise: seeded ${n} ballots through the cast script in ${seedSeconds.toFixed(1)} s`);
    if (o.awardsDone) {
      awardSeconds = (await seedAwards(ctx, pool, pollId, ids, 10, 'finalise: vote points awards')).seconds;
      progress(`finalise: ${n} vote awards made through the award script in ${awardSeconds.toFixed(1)} s`);
    }
  } finally {
    await closePool(pool);
  }
  progress(`finalise: closing poll ${pollId} (moderator's early close → the worker's finalise job)`);
  const c0 = Date.now();
  await ctx.polls.closeNow(pollId);
  let lastLog = Date.now();
  for (;;) {
    if (await ctx.polls.getFinal(pollId)) break;
    if (Date.now() - c0 > 600_000) throw new Error('finalisation did not finish within 10 minutes');
    if (Date.now() - lastLog > 3000) {
      lastLog = Date.now();
      progress(`finalise: waiting for the finalised snapshot (${((Date.now() - c0) / 1000).toFixed(0)} s)`);
    }
    await sleep(20);
  }
  const seconds = (Date.now() - c0) / 1000;
  let job: Job | undefined;
  for (let i = 0; i < 100 && !job?.finishedOn; i++) {
    job = await Job.fromId(ctx.queues.lifecycle, lifecycleJobId('finalise', pollId));
    if (!job?.finishedOn) await sleep(50);
  }
  const rv = (job?.returnvalue ?? {}) as { swept?: number; awarded?: number; ballots?: number; openCountSeconds?: number };
  // the export a publicLedger poll adds to finalisation, run here (bench process) on the same closed poll
  const dir = mkdtempSync(join(tmpdir(), 'ac-bench-ledger-'));
  progress(`finalise: exporting the ballot ledger of ${n} ballots (as finalise does when publicLedger is on)`);
  const e0 = performance.now();
  const ledger = await exportLedger(
    { store: createOpenCountStore(ctx.redis, ctx.keys), dir, logger: ctx.logger },
    { pollId, shards: 1, questionIds: (await ctx.polls.get(pollId))!.questions.map((q) => q.id) },
    (x) => progress(`finalise: ledger export ${x.exported}/${x.of}`),
  );
  const exportSeconds = (performance.now() - e0) / 1000;
  rmSync(dir, { recursive: true, force: true });
  const final = await ctx.polls.getFinal(pollId);
  const ok = final?.results.ballots === n;
  const r: FinaliseResult = {
    ballots: n,
    seedSeconds,
    seedPerSec: n / seedSeconds,
    seconds,
    jobSeconds: job?.finishedOn && job.processedOn ? (job.finishedOn - job.processedOn) / 1000 : NaN,
    swept: rv.swept ?? NaN,
    awarded: rv.awarded ?? NaN,
    exportSeconds,
    exportBytes: ledger.jsonl.bytes + ledger.csv.bytes,
    ok,
    awardsDone: o.awardsDone,
    note: `of which the open count (representativeness panel; ledger not published) ${rv.openCountSeconds?.toFixed(2) ?? '?'} s; ${rv.swept ?? '?'} voters swept, ${rv.awarded ?? '?'} awards made by the sweep (${o.awardsDone ? 'every vote award already made by the batches: the normal case' : 'no vote award made: worst case, as after losing the award queues'}); seeded at ${Math.round(n / seedSeconds)} ballots/s${ok ? '' : `; final snapshot has ${final?.results.ballots} ballots, expected ${n}`}`,
  };
  progress(`finalise: ${n} ballots finalised in ${seconds.toFixed(2)} s (job ${r.jobSeconds.toFixed(2)} s; swept ${r.swept}, awarded ${r.awarded})`);
  return r;
}
