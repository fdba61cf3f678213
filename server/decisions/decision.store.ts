import type { Result } from 'ioredis';
import type { Redis } from '../redis/connection.ts';
import type { Keys } from '../redis/keys.ts';
import { decisionTimelineEntrySchema, type Decision, type DecisionStatus, type DecisionTimelineEntry } from '../../shared/decisions.ts';

declare module 'ioredis' {
  interface RedisCommander<Context> {
    /** server/redis/scripts/decision-step-3.lua: {1, seq} | {0, currentStatus} | {-1, ''} (not finalised). */
    decisionStep(
      decisionKey: string,
      timelineKey: string,
      finalKey: string,
      allowed: string,
      status: string,
      nowIso: string,
      note: string,
      ...fieldValues: string[]
    ): Result<[number, string | number], Context>;
  }
}

export type StepOutcome =
  | { kind: 'ok'; seq: number }
  | { kind: 'invalid_state'; current: DecisionStatus | 'none' }
  | { kind: 'not_finalised' };

/** A decision with the instant it was first published (for the deadline). */
export type StoredDecision = Decision & { answeredAt: string };

function fromRows(pollId: number, h: Record<string, string>, timeline: string[]): StoredDecision | null {
  if (!h.status) return null;
  return {
    pollId,
    status: h.status as DecisionStatus,
    summary: h.summary ?? '',
    body: h.body ?? '',
    reason: h.reason || null,
    createdAt: h.createdAt,
    updatedAt: h.updatedAt,
    answeredAt: h.answeredAt ?? h.createdAt,
    timeline: timeline.map((t) => decisionTimelineEntrySchema.parse(JSON.parse(t))),
  };
}

/** City hall's decision per poll: a hash and its timeline, both in the poll's slot `{p:<id>}`. */
export function createDecisionStore(redis: Redis, keys: Keys) {
  return {
    /**
     * Publish (from `none`) or move the decision: one Lua step checks the poll is finalised and the
     * current status is one of `from`, appends the timeline entry and writes the fields.
     */
    async step(pollId: number, from: (DecisionStatus | 'none')[], to: DecisionStatus, note: string | null, fields: Record<string, string> = {}): Promise<StepOutcome> {
      const [code, v] = await redis.decisionStep(
        keys.decision(pollId),
        keys.decisionTimeline(pollId),
        keys.pollFinal(pollId),
        from.join(','),
        to,
        new Date().toISOString(),
        note ?? '',
        ...Object.entries(fields).flat(),
      );
      if (code === 1) return { kind: 'ok', seq: Number(v) };
      if (code === -1) return { kind: 'not_finalised' };
      return { kind: 'invalid_state', current: String(v) as DecisionStatus | 'none' };
    },

    async get(pollId: number): Promise<StoredDecision | null> {
      const [h, t] = await Promise.all([redis.hgetall(keys.decision(pollId)), redis.lrange(keys.decisionTimeline(pollId), 0, -1)]);
      return fromRows(pollId, h, t);
    },

    /** Many decisions in one round trip (archive pages). */
    async getMany(pollIds: number[]): Promise<(StoredDecision | null)[]> {
      if (!pollIds.length) return [];
      const p = redis.pipeline();
      for (const id of pollIds) p.hgetall(keys.decision(id)).lrange(keys.decisionTimeline(id), 0, -1);
      const res = (await p.exec()) ?? [];
      return pollIds.map((id, i) => {
        const [e1, h] = res[i * 2];
        const [e2, t] = res[i * 2 + 1];
        if (e1) throw e1;
        if (e2) throw e2;
        return fromRows(id, h as Record<string, string>, t as string[]);
      });
    },

    async entry(pollId: number, seq: number): Promise<DecisionTimelineEntry | null> {
      const raw = await redis.lindex(keys.decisionTimeline(pollId), seq - 1);
      return raw ? decisionTimelineEntrySchema.parse(JSON.parse(raw)) : null;
    },
  };
}
export type DecisionStore = ReturnType<typeof createDecisionStore>;
