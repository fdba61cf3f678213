import type { Logger } from '../logger.ts';
import type { Queues } from '../jobs/queues.ts';
import type { RealtimeEmitter } from '../realtime/emitter.ts';
import { AppError, parseOr } from '../errors.ts';
import { decisionFanoutJob, fanoutJobId } from '../../shared/jobs.ts';
import {
  DECISION_NEXT,
  DECISION_STATUSES,
  decisionCreateSchema,
  decisionStepSchema,
  type Decision,
  type DecisionStatus,
  type DecisionView,
} from '../../shared/decisions.ts';
import type { User } from '../../shared/users.ts';
import type { DecisionStore, StoredDecision } from './decision.store.ts';
import { deadlineStatus, type WorkCalendar } from './working-days.ts';

/** What decisions need of a poll (the polls domain's `Poll` satisfies it). */
export type DecisionPoll = { id: number; status: string; finalisedAt: string | null };
export type DecisionPollSource = { get(pollId: number): Promise<DecisionPoll | null> };

export type DecisionServiceDeps = {
  store: DecisionStore;
  polls: DecisionPollSource;
  queues: Pick<Queues, 'notifications'>;
  realtime: Pick<RealtimeEmitter, 'toPoll'>;
  logger: Logger;
  calendar: WorkCalendar;
  deadlineWorkingDays: number;
  /** Voter-bitmap bits per fan-out chunk, fixed into each fan-out job. */
  chunkBits: number;
  now?: () => number;
};

const publicDecision = (d: StoredDecision): Decision => {
  const { answeredAt: _a, ...rest } = d;
  return rest;
};

/**
 * City hall's decisions: publish on a finalised poll, move through the status machine, the public
 * view with the answer deadline; every event is fanned out to the poll's voters by a `fanout` job.
 */
export function createDecisionService(deps: DecisionServiceDeps) {
  const { store, polls, queues, realtime, calendar } = deps;
  const now = deps.now ?? Date.now;
  const log = deps.logger.child({ domain: 'decisions' });

  /** Enqueue the fan-out of every event of the timeline (deterministic job ids: a re-add is a no-op). */
  async function fanout(pollId: number, upToSeq: number): Promise<void> {
    try {
      for (let seq = 1; seq <= upToSeq; seq++) {
        const data = decisionFanoutJob.parse({ pollId, seq, chunkBits: deps.chunkBits });
        await queues.notifications.add('fanout', data, { jobId: fanoutJobId(data) });
      }
    } catch (err) {
      // the decision is stored; the next step (or refanout) enqueues every event of the timeline again
      log.error({ err, pollId, upToSeq }, 'decision fan-out enqueue failed');
    }
  }

  function emit(pollId: number, status: DecisionStatus) {
    try {
      realtime.toPoll(pollId, 'poll:status', { pollId, status: 'finalised', at: new Date(now()).toISOString(), decisionStatus: status });
    } catch (err) {
      log.warn({ err, pollId }, 'poll:status emit failed');
    }
  }

  function viewOf(pollId: number, poll: DecisionPoll, d: StoredDecision | null, at: number): DecisionView {
    const fin = poll.status === 'finalised' && poll.finalisedAt ? Date.parse(poll.finalisedAt) : null;
    const deadline = deadlineStatus(fin, d ? Date.parse(d.answeredAt) : null, at, deps.deadlineWorkingDays, calendar);
    return { pollId, finalisedAt: fin === null ? null : poll.finalisedAt, ...deadline, decision: d ? publicDecision(d) : null };
  }

  async function pollOr404(pollId: number): Promise<DecisionPoll> {
    const poll = await polls.get(pollId);
    if (!poll || poll.status === 'draft') throw new AppError('not_found', 'No such poll');
    return poll;
  }

  const service = {
    /** `POST /api/polls/:id/decision`: only on a finalised poll, only once. */
    async publish(pollId: number, body: unknown, user: User): Promise<DecisionView> {
      const poll = await pollOr404(pollId);
      const input = parseOr(decisionCreateSchema, body, 'invalid_body', 'Invalid decision');
      if (poll.status !== 'finalised') throw new AppError('invalid_state', `A decision can only be published on a finalised poll (this one is ${poll.status})`);
      const r = await store.step(pollId, ['none'], 'decided', null, { summary: input.summary, body: input.body, by: String(user.id) });
      if (r.kind === 'not_finalised') throw new AppError('invalid_state', 'A decision can only be published on a finalised poll');
      if (r.kind === 'invalid_state') throw new AppError('conflict', 'A decision is already published for this poll; move its status instead', { status: r.current });
      log.info({ pollId, by: user.id }, 'decision published');
      emit(pollId, 'decided');
      await fanout(pollId, r.seq);
      return service.view(pollId);
    },

    /** `POST /api/polls/:id/decision/status`: decided → in_progress → implemented, or → rejected with a reason. */
    async step(pollId: number, body: unknown, user: User): Promise<DecisionView> {
      await pollOr404(pollId);
      const input = parseOr(decisionStepSchema, body, 'invalid_body', 'Invalid decision step');
      const from = DECISION_STATUSES.filter((s) => DECISION_NEXT[s].includes(input.status));
      const note = input.status === 'rejected' ? input.reason! : (input.note ?? null);
      const fields: Record<string, string> = { [`by:${input.status}`]: String(user.id) };
      if (input.reason) fields.reason = input.reason;
      const r = await store.step(pollId, from, input.status, note, fields);
      if (r.kind === 'not_finalised') throw new AppError('invalid_state', 'The poll is not finalised');
      if (r.kind === 'invalid_state') {
        throw new AppError(
          'invalid_state',
          r.current === 'none' ? 'No decision has been published for this poll yet' : `A decision that is ${r.current} cannot move to ${input.status}`,
          { status: r.current, allowed: r.current === 'none' ? [] : DECISION_NEXT[r.current] },
        );
      }
      log.info({ pollId, by: user.id, status: input.status, seq: r.seq }, 'decision moved');
      emit(pollId, input.status);
      await fanout(pollId, r.seq);
      return service.view(pollId);
    },

    /** `GET /api/polls/:id/decision` (public): the decision with its timeline and the answer deadline. */
    async view(pollId: number, at = now()): Promise<DecisionView> {
      const poll = await pollOr404(pollId);
      return viewOf(pollId, poll, await store.get(pollId), at);
    },

    /** Views of many polls in one decisions round trip (archive pages). */
    async viewsOf(list: DecisionPoll[], at = now()): Promise<DecisionView[]> {
      const ds = await store.getMany(list.map((p) => p.id));
      return list.map((p, i) => viewOf(p.id, p, ds[i], at));
    },

    /** Re-enqueue the fan-outs of a poll's whole timeline (after an enqueue failed; idempotent). */
    async refanout(pollId: number): Promise<number> {
      const d = await store.get(pollId);
      if (d) await fanout(pollId, d.timeline.length);
      return d?.timeline.length ?? 0;
    },
  };
  return service;
}
export type DecisionService = ReturnType<typeof createDecisionService>;
