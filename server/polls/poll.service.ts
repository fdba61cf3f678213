import type { Logger } from '../logger.ts';
import type { Queues } from '../jobs/queues.ts';
import type { RealtimeEmitter } from '../realtime/emitter.ts';
import { AppError, parseOr, zodDetails } from '../errors.ts';
import { lifecycleJobId } from '../../shared/jobs.ts';
import type { User } from '../../shared/users.ts';
import {
  pollCreateSchema,
  pollFinalSchema,
  pollPatchSchema,
  pollResultsSchema,
  publishIssues,
  type Poll,
  type PollFinal,
  type PollResults,
  type PollStatus,
} from '../../shared/polls.ts';
import type { PollStore } from './poll.store.ts';
import type { PollCache } from './poll.cache.ts';
import { effectiveStatus, toPoll } from './poll-status.ts';

export type PollServiceDeps = {
  store: PollStore;
  cache: PollCache;
  logger: Logger;
  queues: Pick<Queues, 'lifecycle'>;
  realtime: Pick<RealtimeEmitter, 'toPoll'>;
  now?: () => number;
};

/**
 * Poll definitions and their lifecycle: drafts, publish, open, close, finalise (the final snapshot is
 * written once). Reads go through the definition cache. Never sees Express or Socket.IO.
 */
export function createPollService(deps: PollServiceDeps) {
  const { store, cache, queues, realtime } = deps;
  const now = deps.now ?? Date.now;
  const log = deps.logger.child({ domain: 'polls' });
  const iso = () => new Date(now()).toISOString();

  function emitStatus(pollId: number, status: PollStatus) {
    try {
      realtime.toPoll(pollId, 'poll:status', { pollId, status, at: iso() });
    } catch (err) {
      // Not thrown: the state change is stored; watchers see it on their next poll:watch or page load.
      log.warn({ err, pollId }, 'poll:status emit failed');
    }
  }

  async function addJob(kind: 'open' | 'close' | 'finalise', pollId: number, delay = 0) {
    try {
      await queues.lifecycle.add(kind, { pollId }, { jobId: lifecycleJobId(kind, pollId), delay: Math.max(0, delay) });
    } catch (err) {
      // Not thrown: the publish or close is stored and the effective status follows the clock without the job.
      // A lost finalise is enqueued again by the repeatable award sweep (it finds the poll closed); a lost
      // open or close only delays the stored state, which an operator must see: at error.
      log.error({ err, pollId, job: kind }, 'lifecycle job enqueue failed');
    }
  }

  const service = {
    /** Definition + effective status; null when there is no such poll. */
    async get(pollId: number): Promise<Poll | null> {
      const row = await cache.row(pollId);
      return row ? toPoll(row, now()) : null;
    },

    async getFinal(pollId: number): Promise<PollFinal | null> {
      const json = await store.getFinal(pollId);
      return json ? pollFinalSchema.parse(JSON.parse(json)) : null;
    },

    /** Lifecycle `open` job: mark the poll active (and repair shard windows a crashed publish left out). */
    async markOpen(pollId: number): Promise<boolean> {
      const row = await cache.row(pollId, true);
      if (!row || row.state !== 'scheduled') return false;
      await store.writeShardWindows(pollId, row.def.shards, Date.parse(row.def.opensAt!), Date.parse(row.def.closesAt!));
      const t = await store.transition(pollId, ['scheduled'], 'active');
      if (t.changed) {
        await cache.changed(pollId);
        emitStatus(pollId, effectiveStatus({ ...row, state: 'active' }, now()));
      } else cache.invalidate(pollId); // another process moved it: the row read above is already stale here
      return t.changed;
    },

    /**
     * Close now (early close, or the `close` job at closesAt). Every shard slot first (voting stops
     * there), then the poll; then the `finalise` job. Idempotent: true only when it changed the state.
     */
    async close(pollId: number): Promise<boolean> {
      const row = await cache.row(pollId, true);
      if (!row || row.state === 'draft') return false;
      await store.setShardStates(pollId, row.def.shards, ['none', 'published'], 'closed');
      const t = await store.transition(pollId, ['scheduled', 'active'], 'closed', { closedAt: iso() });
      if (t.changed) {
        await cache.changed(pollId);
        emitStatus(pollId, 'closed');
        log.info({ pollId }, 'poll closed');
        await addJob('finalise', pollId);
      } else cache.invalidate(pollId); // another process moved it: the row read above is already stale here
      return t.changed;
    },

    /**
     * Write the immutable final snapshot (SET NX: a second call returns the existing one) and set the
     * status finalised. The poll must be closed (effectively: a published poll past closesAt counts).
     */
    async markFinalised(
      pollId: number,
      snapshot: PollResults | ({ results: PollResults } & Partial<Pick<PollFinal, 'integrity' | 'ledger' | 'representativeness'>>),
    ): Promise<PollFinal> {
      const row = await cache.row(pollId, true);
      if (!row) throw new AppError('not_found', 'No such poll');
      const status = effectiveStatus(row, now());
      if (status !== 'closed' && status !== 'finalised') throw new AppError('invalid_state', `Cannot finalise a ${status} poll`);
      const existing = await store.getFinal(pollId);
      // a snapshot with the state not yet finalised = a crash between the two writes: finish the state below
      if (existing && row.state === 'finalised') return pollFinalSchema.parse(JSON.parse(existing));
      if (status === 'closed') await service.close(pollId);
      const body = 'results' in snapshot ? snapshot : { results: snapshot };
      const final = pollFinalSchema.parse({ ...body, pollId, finalisedAt: iso(), results: pollResultsSchema.parse(body.results) });
      const { json } = await store.setFinalOnce(pollId, JSON.stringify(final));
      const stored = pollFinalSchema.parse(JSON.parse(json));
      await store.setShardStates(pollId, row.def.shards, ['none', 'published', 'closed'], 'finalised');
      const t = await store.transition(pollId, ['scheduled', 'active', 'closed'], 'finalised', { finalisedAt: stored.finalisedAt });
      if (t.changed) {
        await cache.changed(pollId);
        emitStatus(pollId, 'finalised');
        log.info({ pollId }, 'poll finalised');
      } else cache.invalidate(pollId); // another process moved it: the row read above is already stale here
      return stored;
    },

    // ---------------- moderator API ----------------

    async create(body: unknown, user: User): Promise<Poll> {
      const def = parseOr(pollCreateSchema, body, 'invalid_body', 'Invalid poll');
      const row = await store.create(def, user.id);
      log.info({ pollId: row.id, by: user.id }, 'poll draft created');
      return toPoll(row, now());
    },

    async update(pollId: number, body: unknown): Promise<Poll> {
      const row = await cache.row(pollId, true);
      if (!row) throw new AppError('not_found', 'No such poll');
      if (row.state !== 'draft') throw new AppError('invalid_state', 'Only a draft can be edited');
      const patch = parseOr(pollPatchSchema, body, 'invalid_body', 'Invalid poll change');
      const merged = pollCreateSchema.safeParse({ ...row.def, ...patch });
      if (!merged.success) throw new AppError('invalid_body', 'The poll would be invalid after this change', zodDetails(merged.error));
      const r = await store.updateDraft(pollId, merged.data);
      if (!r.ok) throw new AppError('invalid_state', 'Only a draft can be edited');
      return toPoll((await cache.row(pollId, true))!, now());
    },

    /** Delete a draft (never a published poll): 404 unknown, 409 once published. */
    async deleteDraft(pollId: number): Promise<void> {
      const r = await store.deleteDraft(pollId);
      if (!r.ok && r.state === '') throw new AppError('not_found', 'No such poll');
      if (!r.ok) throw new AppError('invalid_state', 'Only a draft can be deleted');
      await cache.changed(pollId);
    },

    async publish(pollId: number): Promise<Poll> {
      const row = await cache.row(pollId, true);
      if (!row) throw new AppError('not_found', 'No such poll');
      if (row.state !== 'draft') throw new AppError('invalid_state', `The poll is already ${effectiveStatus(row, now())}`);
      const issues = publishIssues(row.def, now());
      if (issues.length) throw new AppError('invalid_poll', 'The poll cannot be published yet', issues);
      const t = await store.transition(pollId, ['draft'], 'scheduled', { publishedAt: iso() });
      if (!t.changed) throw new AppError('invalid_state', 'The poll changed meanwhile; reload it');
      // From here the definition cannot change (edits need a draft). Re-read it: an edit may have landed
      // between the check above and the state change; if that edit made it unpublishable, step back.
      const pub = (await cache.row(pollId, true))!;
      const late = publishIssues(pub.def, now());
      if (late.length) {
        await store.transition(pollId, ['scheduled'], 'draft', { publishedAt: '' });
        throw new AppError('invalid_poll', 'The poll was edited meanwhile and cannot be published yet', late);
      }
      const opensAt = Date.parse(pub.def.opensAt!);
      const closesAt = Date.parse(pub.def.closesAt!);
      await store.writeShardWindows(pollId, pub.def.shards, opensAt, closesAt);
      await cache.changed(pollId);
      const t0 = now();
      await addJob('open', pollId, opensAt - t0);
      await addJob('close', pollId, closesAt - t0);
      const poll = toPoll((await cache.row(pollId, true))!, now());
      emitStatus(pollId, poll.status);
      log.info({ pollId, opensAt: pub.def.opensAt, closesAt: pub.def.closesAt, shards: pub.def.shards }, 'poll published');
      return poll;
    },

    /** Early close by a moderator: 409 unless the poll is scheduled or active. */
    async closeNow(pollId: number): Promise<Poll> {
      const row = await cache.row(pollId, true);
      if (!row) throw new AppError('not_found', 'No such poll');
      if (row.state === 'draft') throw new AppError('invalid_state', 'A draft cannot be closed; publish it first');
      if (row.state === 'closed' || row.state === 'finalised') throw new AppError('invalid_state', `The poll is already ${row.state}`);
      await service.close(pollId);
      return toPoll((await cache.row(pollId, true))!, now());
    },
  };
  return service;
}
export type PollService = ReturnType<typeof createPollService>;
