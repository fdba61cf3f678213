import { UnrecoverableError, type Job } from 'bullmq';
import type { Logger } from '../logger.ts';
import { decisionFanoutJob, type DecisionFanoutJob } from '../../shared/jobs.ts';
import type { DecisionStatus, DecisionTimelineEntry } from '../../shared/decisions.ts';
import type { InboxItem, NotificationStore } from './notification.store.ts';
import type { NotificationService } from './notification.service.ts';
import type { DecisionStore } from '../decisions/decision.store.ts';

/** What the fan-out needs of the polls domain (its poll service satisfies it). */
export type FanoutPollSource = {
  get(pollId: number): Promise<{ id: number; title: string; status: string } | null>;
};
export type FanoutVoterSource = {
  voterIds(pollId: number, chunkBits?: number): AsyncGenerator<number[]>;
};

export type FanoutDeps = {
  polls: FanoutPollSource;
  ballots: FanoutVoterSource;
  decisions: Pick<DecisionStore, 'get' | 'entry'>;
  notifications: Pick<NotificationService, 'deliver'>;
  store: Pick<NotificationStore, 'cursor' | 'advance' | 'finish'>;
  logger: Logger;
  /** Pause between chunks (ms): spreads a huge fan-out so it never hogs Redis. */
  pauseMs?: number;
};

const TITLES: Record<DecisionStatus, (t: string) => string> = {
  decided: (t) => `City hall has decided on "${t}"`,
  in_progress: (t) => `Work has started on "${t}"`,
  implemented: (t) => `Done: "${t}"`,
  rejected: (t) => `Not going ahead: "${t}"`,
};

export const notificationId = (pollId: number, seq: number) => `d${pollId}.${seq}`;

/** The inbox item of one decision event: identical on every run (id, text and createdAt come from stored data). */
export function decisionNotification(poll: { id: number; title: string }, summary: string, e: DecisionTimelineEntry): InboxItem {
  return {
    id: notificationId(poll.id, e.seq),
    kind: `decision.${e.status}`,
    title: TITLES[e.status](poll.title),
    body: e.note ?? summary,
    pollId: poll.id,
    pollTitle: poll.title,
    createdAt: e.at,
  };
}

/**
 * The `fanout` job: walk the poll's voter bitmaps in chunks of `chunkBits`, deliver the event to each
 * chunk's voters in one pipeline (per-user SADD marker: never twice), then record the next chunk index.
 * A killed worker's job is re-run by BullMQ (stalled) and resumes at the recorded chunk; the chunk that
 * was in flight is delivered again but the markers make it a no-op for the users who already have it.
 * The bitmap is frozen (the poll is finalised), so chunk numbering is the same on every run.
 */
export function createFanoutHandler(deps: FanoutDeps) {
  const { polls, ballots, decisions, notifications, store } = deps;
  return async function fanout(job: Pick<Job, 'id' | 'data' | 'updateProgress'>): Promise<{ chunks: number; written: number; resumedAt: number }> {
    const parsed = decisionFanoutJob.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError(`invalid fanout job data: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    const { pollId, seq, chunkBits }: DecisionFanoutJob = parsed.data;
    const log = deps.logger.child({ queue: 'notifications', jobId: job.id, pollId, seq });

    const cursor = await store.cursor(pollId, seq);
    if (cursor.done) return { chunks: cursor.chunk, written: cursor.written, resumedAt: cursor.chunk };
    const [poll, decision, entry] = await Promise.all([polls.get(pollId), decisions.get(pollId), decisions.entry(pollId, seq)]);
    if (!poll || !decision || !entry) throw new UnrecoverableError(`fanout ${pollId}/${seq}: no such poll or decision event`);
    const item = decisionNotification(poll, decision.summary, entry);
    if (cursor.chunk > 0) log.info({ resumeAt: cursor.chunk, written: cursor.written }, 'fanout resuming');
    else log.info({ chunkBits }, 'fanout started');

    let chunk = 0;
    let written = cursor.written;
    for await (const ids of ballots.voterIds(pollId, chunkBits)) {
      if (chunk < cursor.chunk) {
        chunk++;
        continue;
      }
      const fresh = await notifications.deliver(ids, item);
      written += fresh;
      chunk++;
      await store.advance(pollId, seq, chunk, fresh);
      await job.updateProgress({ chunk, written });
      log.info({ chunk, voters: ids.length, fresh, written }, 'fanout progress');
      if (deps.pauseMs) await new Promise((r) => setTimeout(r, deps.pauseMs));
    }
    await store.finish(pollId, seq);
    log.info({ chunks: chunk, written }, 'fanout done');
    return { chunks: chunk, written, resumedAt: cursor.chunk };
  };
}
