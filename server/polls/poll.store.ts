import type { Result } from 'ioredis';
import { closeRedis, type Redis } from '../redis/connection.ts';
import type { Keys } from '../redis/keys.ts';
import type { PollDefinition, PollStatus } from '../../shared/polls.ts';

declare module 'ioredis' {
  interface RedisCommander<Context> {
    /** server/redis/scripts/poll-cas-1.lua: {1, previous} when written, {0, current} when not. */
    pollCas(key: string, allowed: string, ...fieldValues: string[]): Result<[number, string], Context>;
    /** server/redis/scripts/poll-delete-draft-1.lua: [1, 'draft'] deleted | [0, state] not a draft. */
    pollDeleteDraft(key: string): Result<[number, string], Context>;
  }
}

/** The stored state of a poll (the effective status also looks at the clock: see poll-status.ts). */
export type StoredState = PollStatus;

/** A poll as stored in its hash at `poll:{p:<id>}`. */
export type PollRow = {
  id: number;
  def: PollDefinition;
  state: StoredState;
  createdAt: string;
  updatedAt: string;
  createdBy: number;
  publishedAt: string | null;
  closedAt: string | null;
  finalisedAt: string | null;
};

function fromHash(id: number, h: Record<string, string>): PollRow | null {
  if (!h.def || !h.state) return null;
  return {
    id,
    // polls stored before publicLedger existed publish their ledger (the option's default)
    def: Object.assign({ publicLedger: true }, JSON.parse(h.def)) as PollDefinition,
    state: h.state as StoredState,
    createdAt: h.createdAt,
    updatedAt: h.updatedAt,
    createdBy: Number(h.createdBy),
    publishedAt: h.publishedAt || null,
    closedAt: h.closedAt || null,
    finalisedAt: h.finalisedAt || null,
  };
}

/** Shard-state values the cast script understands (the poll hash keeps the lifecycle name). */
export type ShardState = 'published' | 'closed' | 'finalised';

/**
 * Poll definitions and lifecycle state. Poll level keys share the tag `{p:<id>}`; the copy of the
 * window the cast script checks lives in each shard's slot (`{p:<id>.s<k>}`), written here.
 */
export function createPollStore(redis: Redis, keys: Keys) {
  return {
    async create(def: PollDefinition, createdBy: number): Promise<PollRow> {
      const id = await redis.incr(keys.pollSeq());
      const now = new Date();
      const iso = now.toISOString();
      await redis.hset(keys.poll(id), { def: JSON.stringify(def), state: 'draft', createdAt: iso, updatedAt: iso, createdBy: String(createdBy) });
      await redis.zadd(keys.pollIndex(), now.getTime(), String(id));
      return { id, def, state: 'draft', createdAt: iso, updatedAt: iso, createdBy, publishedAt: null, closedAt: null, finalisedAt: null };
    },

    async get(id: number): Promise<PollRow | null> {
      return fromHash(id, await redis.hgetall(keys.poll(id)));
    },

    /** Many polls in one round trip. */
    async getMany(ids: number[]): Promise<(PollRow | null)[]> {
      if (!ids.length) return [];
      const res = await Promise.all(ids.map((id) => redis.hgetall(keys.poll(id)))); // auto-pipelined
      return ids.map((id, i) => fromHash(id, res[i]));
    },

    /** Newest first. */
    async ids(limit = 1000): Promise<number[]> {
      return (await redis.zrevrange(keys.pollIndex(), 0, limit - 1)).map(Number);
    },

    /** Replace a draft's definition; refused (ok=false, state returned) unless the poll is a draft. */
    async updateDraft(id: number, def: PollDefinition): Promise<{ ok: boolean; state: string }> {
      const [ok, state] = await redis.pollCas(keys.poll(id), 'draft', 'def', JSON.stringify(def), 'updatedAt', new Date().toISOString());
      return { ok: ok === 1, state };
    },

    /**
     * Delete a draft: the hash goes only while it is a draft (one script on its slot), then the id leaves
     * the index (another slot; an id left behind by a crash in between reads as a missing poll).
     */
    async deleteDraft(id: number): Promise<{ ok: boolean; state: string }> {
      const [ok, state] = await redis.pollDeleteDraft(keys.poll(id));
      if (ok === 1) await redis.zrem(keys.pollIndex(), String(id));
      return { ok: ok === 1, state };
    },

    /** Compare-and-set of the poll hash's state, stamping fields; `previous` is the state before. */
    async transition(id: number, from: StoredState[], to: StoredState, stamps: Record<string, string> = {}): Promise<{ changed: boolean; previous: string }> {
      const fv = ['state', to, 'updatedAt', new Date().toISOString(), ...Object.entries(stamps).flat()];
      const [ok, previous] = await redis.pollCas(keys.poll(id), from.join(','), ...fv);
      return { changed: ok === 1, previous };
    },

    /**
     * Write the window into every shard slot, only where no shard state exists yet (a close that got
     * there first wins, so a racing publish can never reopen a closed shard).
     */
    async writeShardWindows(id: number, shards: number, opensAtMs: number, closesAtMs: number): Promise<void> {
      await Promise.all(
        Array.from({ length: shards }, (_, k) =>
          redis.pollCas(keys.pollShardState(id, k), 'none', 'state', 'published', 'opensAt', String(opensAtMs), 'closesAt', String(closesAtMs)),
        ),
      );
    },

    /** Set every shard's state (closing also covers shards a crashed publish never wrote). */
    async setShardStates(id: number, shards: number, from: (ShardState | 'none')[], to: ShardState): Promise<void> {
      await Promise.all(Array.from({ length: shards }, (_, k) => redis.pollCas(keys.pollShardState(id, k), from.join(','), 'state', to)));
    },

    /** SET NX of the final snapshot; returns the stored JSON (the existing one if already set). */
    async setFinalOnce(id: number, json: string): Promise<{ created: boolean; json: string }> {
      const created = await redis.set(keys.pollFinal(id), json, 'NX');
      if (created) return { created: true, json };
      return { created: false, json: (await redis.get(keys.pollFinal(id)))! };
    },

    async getFinal(id: number): Promise<string | null> {
      return redis.get(keys.pollFinal(id));
    },

    /** Tell every process's definition cache that this poll changed. */
    async announceChange(id: number): Promise<void> {
      await redis.publish(keys.pollChanged(), String(id));
    },

    /**
     * Listen for announced changes on a dedicated subscriber connection (it reconnects by itself).
     * Connection and SUBSCRIBE errors go to `onError`; messages missed while disconnected are lost, so
     * a listener must not rely on them alone (the definition cache also expires its entries).
     */
    subscribeChanges(onChange: (id: number) => void, onError: (err: Error) => void): { close(): Promise<void> } {
      const sub = redis.duplicate({ enableAutoPipelining: false, lazyConnect: false });
      sub.on('error', onError);
      sub.on('message', (_ch: string, msg: string) => onChange(Number(msg)));
      sub.subscribe(keys.pollChanged()).catch(onError);
      return { close: () => closeRedis(sub) };
    },
  };
}
export type PollStore = ReturnType<typeof createPollStore>;
