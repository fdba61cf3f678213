import { UnrecoverableError } from 'bullmq';
import { lifecycleJobId, pollLifecycleJob } from '../../shared/jobs.ts';
import type { PollFinal } from '../../shared/polls.ts';
import type { Logger } from '../logger.ts';
import type { Queues } from '../jobs/queues.ts';
import type { Metrics } from '../metrics.ts';
import type { IntegrityStore } from '../jobs/integrity.store.ts';
import type { PointsService } from '../points/points.service.ts';
import type { BallotService } from '../ballots/ballot.service.ts';
import type { PollService } from './poll.service.ts';
import type { ArchiveSync } from '../archive/archive.sync.ts';
import { parseJob, type JobHandlers } from '../jobs/job-data.ts';
import type { IntegrityService } from '../integrity/integrity.service.ts';

/** Awards in flight at once during the finalisation sweep (auto-pipelined on one connection). */
const SWEEP_BATCH = 500;
const SWEEP_LOG_EVERY = 50_000;

/**
 * `lifecycle` queue: `open` at opensAt, `close` at closesAt (both enqueued at publish with deterministic
 * ids), `finalise` after a close. All idempotent; a job that runs late (worker down) simply runs when
 * the worker is back — voting had already stopped on time (the cast script checks the clock).
 */
export type LifecycleJobDeps = {
  polls: Pick<PollService, 'get' | 'markOpen' | 'close' | 'getFinal' | 'markFinalised'>;
  ballots: Pick<BallotService, 'integrity' | 'sweepChunks' | 'markVotesAwarded' | 'clearAwardQueues' | 'results'>;
  points: Pick<PointsService, 'awardMany'>;
  queues: Pick<Queues, 'lifecycle'>;
  integrity: Pick<IntegrityStore, 'record'>;
  metrics: Pick<Metrics, 'integrityAlarms'>;
  /** Copies the finalised poll into the PostgreSQL archive (never holds finalisation up; a sweep retries). */
  archiveSync?: Pick<ArchiveSync, 'record' | 'sweep'>;
  /** The open count's part of finalisation: the published ledger and the frozen representativeness panel. */
  openCount: Pick<IntegrityService, 'finaliseExtras'>;
};

export function lifecycleHandlers(deps: LifecycleJobDeps): JobHandlers {
  return {
    async open(job, log) {
      const { pollId } = parseJob(pollLifecycleJob, job);
      const opened = await deps.polls.markOpen(pollId);
      log.info({ pollId, opened }, 'poll open job');
      return { opened };
    },

    async close(job, log) {
      const { pollId } = parseJob(pollLifecycleJob, job);
      const poll = await deps.polls.get(pollId);
      if (!poll) throw new UnrecoverableError(`close for unknown poll ${pollId}`);
      if (poll.status === 'draft') return { closed: false, status: poll.status };
      const closed = await deps.polls.close(pollId);
      // always (re)enqueue: a crash between close() and its own enqueue must not lose finalisation
      await enqueueFinalise(deps.queues, pollId);
      log.info({ pollId, closed }, 'poll close job');
      return { closed };
    },

    async finalise(job, log) {
      const { pollId } = parseJob(pollLifecycleJob, job);
      const out = await finalisePoll(deps, pollId, log, (p) => job.updateProgress(p));
      return { pollId, finalisedAt: out.final.finalisedAt, ballots: out.final.results.ballots, swept: out.swept, awarded: out.awarded, already: out.already, openCountSeconds: out.openCountSeconds };
    },

    /** Repeatable: finalised polls whose archive row could not be written at finalisation (PostgreSQL down). */
    async 'archive-sweep'(_job, log) {
      return (await deps.archiveSync?.sweep(log)) ?? { written: 0, pending: 0 };
    },
  };
}

/**
 * (Re)enqueue a closed poll's finalisation. The deterministic id makes it a no-op while the job exists;
 * called after every close and by the repeatable award sweep for polls still closed, so an enqueue lost
 * to a Redis failover or a crash between close and enqueue does not leave a poll unfinalised.
 */
export async function enqueueFinalise(queues: Pick<Queues, 'lifecycle'>, pollId: number) {
  await queues.lifecycle.add('finalise', { pollId }, { jobId: lifecycleJobId('finalise', pollId) });
}

/**
 * Finalisation: stop voting (idempotent close), cross-check tallies against the ballot ledger and the
 * voter marks (a mismatch raises an integrity alarm: error log, counter, Redis record for /metrics),
 * sweep the voter bitmaps to award any vote points a crash left out, then write the immutable snapshot
 * (SET NX: two racing runs produce one outcome) and set the status (which emits `poll:status`).
 */
export async function finalisePoll(
  deps: LifecycleJobDeps,
  pollId: number,
  log: Logger,
  progress: (p: { swept: number; awarded: number } | { exported: number; of: number }) => unknown = () => {},
): Promise<{ final: PollFinal; swept: number; awarded: number; already: boolean; openCountSeconds?: number }> {
  const existing = await deps.polls.getFinal(pollId);
  // already written: markFinalised returns it unchanged (and finishes the state if a crash interrupted it)
  if (existing) {
    const final = await deps.polls.markFinalised(pollId, existing);
    await deps.archiveSync?.record(pollId, log); // a retried job archives what a crash left out (insert-once)
    return { final, swept: 0, awarded: 0, already: true };
  }
  const poll = await deps.polls.get(pollId);
  if (!poll) throw new UnrecoverableError(`finalise for unknown poll ${pollId}`);
  if (poll.status === 'draft' || poll.status === 'scheduled' || poll.status === 'active') {
    throw new UnrecoverableError(`finalise for a ${poll.status} poll ${pollId}`);
  }
  await deps.polls.close(pollId); // every shard refuses ballots before we count

  const integrity = await deps.ballots.integrity(pollId);
  if (!integrity.ok) {
    deps.metrics.integrityAlarms.inc({ poll: String(pollId) });
    await deps.integrity.record(pollId).catch((err: Error) => log.warn({ err }, 'could not record the integrity alarm (the error log and counter above still carry it)'));
    log.error({ alarm: 'integrity', pollId, problems: integrity.problems, votersMarked: integrity.votersMarked, ledgerLength: integrity.ledgerLength, ballots: integrity.ballots }, 'INTEGRITY ALARM: tallies, ballot ledger and voter marks disagree');
  }

  let swept = 0;
  let awarded = 0;
  if (poll.points > 0) {
    const ref = String(pollId);
    // voters whose award is known made (the awarded bitmap) are counted, not re-awarded
    for await (const { voters, toAward } of deps.ballots.sweepChunks(pollId)) {
      for (let i = 0; i < toAward.length; i += SWEEP_BATCH) {
        const batch = toAward.slice(i, i + SWEEP_BATCH);
        const outs = await deps.points.awardMany(batch, 'vote', ref, poll.points);
        await deps.ballots.markVotesAwarded(pollId, batch);
        awarded += outs.filter((o) => o.created).length;
      }
      const before = swept;
      swept += voters;
      if (Math.floor(swept / SWEEP_LOG_EVERY) > Math.floor(before / SWEEP_LOG_EVERY)) log.info({ pollId, swept, awarded }, 'finalise sweep progress');
      await progress({ swept, awarded });
    }
    if (awarded > 0) log.warn({ pollId, swept, awarded }, 'finalise sweep awarded vote points a crash or lost job had left out');
    // every voter is awarded now: whatever a crash left in the award batch queues is done
    await deps.ballots.clearAwardQueues(pollId);
  }

  // the published ledger (written once, its hash in the snapshot) and the frozen representativeness panel
  const t0 = performance.now();
  const extras = await deps.openCount.finaliseExtras(pollId, log, progress);
  const openCountSeconds = (performance.now() - t0) / 1000;
  const results = await deps.ballots.results(pollId);
  const final = await deps.polls.markFinalised(pollId, {
    results,
    integrity: { votersMarked: integrity.votersMarked, ledgerLength: integrity.ledgerLength, ballots: integrity.ballots, ok: integrity.ok },
    ...extras,
  });
  log.info({ pollId, ballots: final.results.ballots, swept, awarded, integrityOk: integrity.ok }, 'poll finalised');
  await deps.archiveSync?.record(pollId, log);
  return { final, swept, awarded, already: false, openCountSeconds };
}
