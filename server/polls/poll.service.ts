import type { Config } from '../config.ts';
import type { Logger } from '../logger.ts';
import type { Redis } from '../redis/connection.ts';
import { closeRedis } from '../redis/connection.ts';
import type { Keys } from '../redis/keys.ts';
import type { Queues } from '../jobs/queues.ts';
import type { RealtimeEmitter } from '../realtime/emitter.ts';
import { AppError, parseOr, zodDetails } from '../errors.ts';
import { lifecycleJobId, pointsJobId } from '../../shared/jobs.ts';
import type { User } from '../../shared/users.ts';
import {
  ageBandOf,
  AGE_BANDS,
  ballotBodySchema,
  ballotIssues,
  isTargeted,
  pollCreateSchema,
  pollFinalSchema,
  pollPatchSchema,
  pollResultsSchema,
  publishIssues,
  type BallotReceipt,
  type Poll,
  type PollDefinition,
  type PollFinal,
  type PollListItem,
  type PollListQuery,
  type PollResults,
  type PollStatus,
  type PollView,
} from '../../shared/polls.ts';
import { createPollStore, type PollRow } from './poll.store.ts';
import { createBallotStore } from '../ballots/ballot.store.ts';
import { ballotIds } from '../ballots/ballot-ids.ts';
import type { RefusalCounter } from '../ballots/refusal-counter.ts';
import { respondentCell } from '../representativeness/cells.ts';

export type PollIntegrity = {
  votersMarked: number;
  ledgerLength: number;
  ballots: number;
  /** Ballots that answered each question (a:<q> counters kept by the cast script). */
  perQuestion: Record<string, number>;
  ok: boolean;
  /** Why `ok` is false (empty when ok). */
  problems: string[];
};

const STAFF = ['moderator', 'admin'] as const;
export const isStaff = (user: User | null | undefined) => !!user && user.roles.some((r) => (STAFF as readonly string[]).includes(r));
/** Who reads every poll's results and every closed poll (drafts stay with STAFF): staff and city hall. */
const READERS = ['moderator', 'official', 'admin'] as const;
export const readsAllResults = (user: User | null | undefined) => !!user && user.roles.some((r) => (READERS as readonly string[]).includes(r));

/** Effective status: the stored state and the clock (the lifecycle worker being down never shows stale status). */
export function effectiveStatus(row: Pick<PollRow, 'state' | 'def'>, nowMs: number): PollStatus {
  if (row.state === 'scheduled' || row.state === 'active') {
    if (row.def.closesAt && nowMs >= Date.parse(row.def.closesAt)) return 'closed';
    if (row.def.opensAt && nowMs >= Date.parse(row.def.opensAt)) return 'active';
    return 'scheduled';
  }
  return row.state;
}

/** Why a user may not vote in a poll, or null when they may. */
export function ineligibility(def: Pick<PollDefinition, 'audience'>, user: User, year = new Date().getUTCFullYear()): string | null {
  const a = def.audience;
  if (!isTargeted(a)) return null;
  if (!user.profileComplete) return 'This poll is for a specific audience: complete your profile (district, birth year) first';
  if (a.districts.length && !a.districts.includes(user.district!)) return 'This poll is for residents of other districts';
  const age = year - user.birthYear!;
  if (a.minAge !== null && age < a.minAge) return `This poll is for residents aged ${a.minAge} and over`;
  if (a.maxAge !== null && age > a.maxAge) return `This poll is for residents aged up to ${a.maxAge}`;
  return null;
}

/**
 * Groups smaller than `min` are merged into "other"; if "other" itself would stay under `min`, the
 * smallest visible groups are folded in until it does not (so no small group can be recovered by
 * subtraction). Sorted by size, "other" last.
 */
export function mergeSmallGroups(groups: Record<string, number>, min: number): { key: string; ballots: number }[] {
  const entries = Object.entries(groups).filter(([, n]) => n > 0).sort((x, y) => y[1] - x[1] || x[0].localeCompare(y[0]));
  const visible = entries.filter(([, n]) => n >= min);
  let other = entries.filter(([, n]) => n < min).reduce((s, [, n]) => s + n, 0);
  while (other > 0 && other < min && visible.length) other += visible.pop()![1];
  const out = visible.map(([key, ballots]) => ({ key, ballots }));
  if (other > 0) out.push({ key: 'other', ballots: other });
  return out;
}

const CACHE_MS = 5_000;
const CACHE_MAX = 10_000;

export type PollServiceDeps = {
  redis: Redis;
  keys: Keys;
  config: Config;
  logger: Logger;
  queues: Pick<Queues, 'lifecycle' | 'points'>;
  realtime: Pick<RealtimeEmitter, 'toPoll'>;
  /** Counts ballots refused as invalid (before the cast script, which counts the other refusals). */
  refusals?: Pick<RefusalCounter, 'invalid'>;
};

/**
 * Polls and ballots: definitions (cached in process, invalidated by pub/sub), the lifecycle, the vote
 * path (one Lua script on the voter's shard slot), results summed over shards, integrity checks.
 * Never sees Express or Socket.IO.
 */
export function createPollService(deps: PollServiceDeps) {
  const { redis, keys, config, queues, realtime } = deps;
  const log = deps.logger.child({ domain: 'polls' });
  const store = createPollStore(redis, keys);
  const ballots = createBallotStore(redis, keys);
  const minGroup = config.RESULTS_MIN_GROUP_SIZE;

  // ---- definition cache (published polls only; drafts are always read fresh) ----
  const cache = new Map<number, { row: PollRow; exp: number }>();
  // Bumped by every invalidation. A read that was in flight when a poll changed may carry the old row:
  // it is returned but not cached (caching it would serve a stale state, e.g. closed after finalised,
  // for CACHE_MS — seen as a missing finalisedAt right after finalisation).
  let epoch = 0;
  const invalidate = (id: number) => {
    epoch++;
    cache.delete(id);
  };
  let sub: Redis | null = null;
  let closed = false;
  const subscribe = () => {
    if (sub || closed) return;
    sub = redis.duplicate({ enableAutoPipelining: false, lazyConnect: false });
    sub.on('error', () => {}); // the command connection reports Redis trouble; TTL covers missed messages
    sub.on('message', (_ch: string, msg: string) => invalidate(Number(msg)));
    sub.subscribe(keys.pollChanged()).catch(() => {});
  };
  const remember = (row: PollRow | null, id: number, readAt: number) => {
    if (readAt !== epoch) return row;
    if (row && row.state !== 'draft') {
      if (cache.size >= CACHE_MAX) cache.clear();
      cache.set(id, { row, exp: Date.now() + CACHE_MS });
    } else cache.delete(id);
    return row;
  };
  async function rowOf(id: number, fresh = false): Promise<PollRow | null> {
    if (!Number.isSafeInteger(id) || id <= 0) return null;
    const c = cache.get(id);
    if (!fresh && c && c.exp > Date.now()) return c.row;
    subscribe();
    const at = epoch;
    return remember(await store.get(id), id, at);
  }
  async function rowsOf(ids: number[]): Promise<(PollRow | null)[]> {
    const now = Date.now();
    const missing = ids.filter((id) => !((cache.get(id)?.exp ?? 0) > now));
    if (missing.length) {
      subscribe();
      const at = epoch;
      const rows = await store.getMany(missing);
      const fetched = new Map(missing.map((id, i) => [id, remember(rows[i], id, at)]));
      return ids.map((id) => (fetched.has(id) ? fetched.get(id)! : cache.get(id)!.row));
    }
    return ids.map((id) => cache.get(id)!.row);
  }
  async function changed(id: number) {
    invalidate(id);
    await store.announceChange(id).catch((err) => log.warn({ err: err.message, pollId: id }, 'poll change announce failed'));
  }
  function emitStatus(pollId: number, status: PollStatus) {
    try {
      realtime.toPoll(pollId, 'poll:status', { pollId, status, at: new Date().toISOString() });
    } catch (err) {
      log.warn({ err: (err as Error).message, pollId }, 'poll:status emit failed');
    }
  }

  const toPoll = (row: PollRow, now = Date.now()): Poll => ({
    id: row.id,
    ...row.def,
    status: effectiveStatus(row, now),
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
    createdBy: row.createdBy,
    publishedAt: row.publishedAt,
    closedAt: row.closedAt,
    finalisedAt: row.finalisedAt,
  });

  async function resultsOf(row: PollRow): Promise<PollResults> {
    const { tally, breakdown } = await ballots.sums(row.id, row.def.shards);
    const district: Record<string, number> = {};
    const ageBand: Record<string, number> = {};
    for (const [f, n] of Object.entries(breakdown)) {
      if (f.startsWith('d:')) district[f.slice(2)] = n;
      else if (f.startsWith('a:')) ageBand[f.slice(2)] = n;
    }
    return {
      pollId: row.id,
      version: tally._v ?? 0,
      ballots: tally._ballots ?? 0,
      questions: row.def.questions.map((q) => ({ id: q.id, options: q.options.map((o) => ({ id: o.id, count: tally[`o:${q.id}:${o.id}`] ?? 0 })) })),
      breakdown: {
        district: mergeSmallGroups(district, minGroup),
        ageBand: mergeSmallGroups(ageBand, minGroup).sort(
          (x, y) => bandOrder(x.key) - bandOrder(y.key),
        ),
      },
    };
  }
  const bandOrder = (k: string) => (k === 'other' ? 99 : k === 'unknown' ? 98 : (AGE_BANDS as readonly string[]).indexOf(k));

  async function addJob(kind: 'open' | 'close' | 'finalise', pollId: number, delay = 0) {
    try {
      await queues.lifecycle.add(kind, { pollId }, { jobId: lifecycleJobId(kind, pollId), delay: Math.max(0, delay) });
    } catch (err) {
      log.error({ err: (err as Error).message, pollId, job: kind }, 'lifecycle job enqueue failed');
    }
  }

  function canSeeResults(row: PollRow, status: PollStatus, user: User | null, voted: boolean): boolean {
    if (readsAllResults(user)) return true;
    if (voted) return true;
    if (row.def.publicLive && row.state !== 'draft') return true; // projector view: live results for everyone
    if (status !== 'closed' && status !== 'finalised') return false;
    return row.def.publicResults || (!!user && ineligibility(row.def, user) === null);
  }

  const service = {
    // ---------------- contract used by other domains ----------------

    /** Definition + effective status; null when there is no such poll. */
    async get(pollId: number): Promise<Poll | null> {
      const row = await rowOf(pollId);
      return row ? toPoll(row) : null;
    },

    async hasVoted(pollId: number, userId: number): Promise<boolean> {
      const row = await rowOf(pollId);
      if (!row || row.state === 'draft') return false;
      return ballots.hasVoted(pollId, row.def.shards, userId);
    },

    /** Live results (shards summed, small groups merged into "other"). Throws not_found. */
    async results(pollId: number): Promise<PollResults> {
      const row = await rowOf(pollId);
      if (!row) throw new AppError('not_found', 'No such poll');
      return resultsOf(row);
    },

    async ballotsCount(pollId: number): Promise<number> {
      return (await service.results(pollId)).ballots;
    },

    /** Sum of shard tally versions per poll (0 for unknown polls); one round trip once definitions are cached. */
    async tallyVersions(pollIds: number[]): Promise<number[]> {
      const rows = await rowsOf(pollIds);
      return ballots.versions(rows.map((r, i) => ({ id: pollIds[i], shards: r && r.state !== 'draft' ? r.def.shards : 0 })));
    },

    /** Lifecycle `open` job: mark the poll active (and repair shard windows a crashed publish left out). */
    async markOpen(pollId: number): Promise<boolean> {
      const row = await rowOf(pollId, true);
      if (!row || row.state !== 'scheduled') return false;
      await store.writeShardWindows(pollId, row.def.shards, Date.parse(row.def.opensAt!), Date.parse(row.def.closesAt!));
      const t = await store.transition(pollId, ['scheduled'], 'active');
      if (t.changed) {
        await changed(pollId);
        emitStatus(pollId, effectiveStatus({ ...row, state: 'active' }, Date.now()));
      } else invalidate(pollId); // another process moved it: the row read above is already stale here
      return t.changed;
    },

    /**
     * Close now (early close, or the `close` job at closesAt). Every shard slot first (voting stops
     * there), then the poll; then the `finalise` job. Idempotent: true only when it changed the state.
     */
    async close(pollId: number): Promise<boolean> {
      const row = await rowOf(pollId, true);
      if (!row || row.state === 'draft') return false;
      await store.setShardStates(pollId, row.def.shards, ['none', 'published'], 'closed');
      const t = await store.transition(pollId, ['scheduled', 'active'], 'closed', { closedAt: new Date().toISOString() });
      if (t.changed) {
        await changed(pollId);
        emitStatus(pollId, 'closed');
        log.info({ pollId }, 'poll closed');
        await addJob('finalise', pollId);
      } else invalidate(pollId); // another process moved it: the row read above is already stale here
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
      const row = await rowOf(pollId, true);
      if (!row) throw new AppError('not_found', 'No such poll');
      const status = effectiveStatus(row, Date.now());
      if (status !== 'closed' && status !== 'finalised') throw new AppError('invalid_state', `Cannot finalise a ${status} poll`);
      const existing = await store.getFinal(pollId);
      // a snapshot with the state not yet finalised = a crash between the two writes: finish the state below
      if (existing && row.state === 'finalised') return pollFinalSchema.parse(JSON.parse(existing));
      if (status === 'closed') await service.close(pollId);
      const body = 'results' in snapshot ? snapshot : { results: snapshot };
      const final = pollFinalSchema.parse({ ...body, pollId, finalisedAt: new Date().toISOString(), results: pollResultsSchema.parse(body.results) });
      const { json } = await store.setFinalOnce(pollId, JSON.stringify(final));
      const stored = pollFinalSchema.parse(JSON.parse(json));
      await store.setShardStates(pollId, row.def.shards, ['none', 'published', 'closed'], 'finalised');
      const t = await store.transition(pollId, ['scheduled', 'active', 'closed'], 'finalised', { finalisedAt: stored.finalisedAt });
      if (t.changed) {
        await changed(pollId);
        emitStatus(pollId, 'finalised');
        log.info({ pollId }, 'poll finalised');
      } else invalidate(pollId); // another process moved it: the row read above is already stale here
      return stored;
    },

    async getFinal(pollId: number): Promise<PollFinal | null> {
      const json = await store.getFinal(pollId);
      return json ? pollFinalSchema.parse(JSON.parse(json)) : null;
    },

    /**
     * Cross-check: voters marked (BITCOUNT) == ledger length (XLEN) == ballots (tally), and per question:
     * a required question was answered on every ballot, an optional one on at most every ballot; the
     * option counts of a single-choice question add up to its answered count, of a multi-choice one lie
     * within answered..answered×maxChoices.
     */
    async integrity(pollId: number): Promise<PollIntegrity> {
      const row = await rowOf(pollId);
      if (!row) throw new AppError('not_found', 'No such poll');
      const { votersMarked, ledgerLength, tally } = await ballots.counts(pollId, row.def.shards);
      const n = tally._ballots ?? 0;
      const problems: string[] = [];
      if (votersMarked !== n) problems.push(`voters marked ${votersMarked} != ballots ${n}`);
      if (ledgerLength !== n) problems.push(`ledger length ${ledgerLength} != ballots ${n}`);
      const perQuestion: Record<string, number> = {};
      for (const q of row.def.questions) {
        const answered = tally[`a:${q.id}`] ?? 0;
        perQuestion[q.id] = answered;
        const sum = q.options.reduce((s, o) => s + (tally[`o:${q.id}:${o.id}`] ?? 0), 0);
        if (q.required && answered !== n) problems.push(`${q.id}: answered ${answered} != ballots ${n}`);
        if (!q.required && answered > n) problems.push(`${q.id}: answered ${answered} > ballots ${n}`);
        if (q.kind === 'single' && sum !== answered) problems.push(`${q.id}: option sum ${sum} != answered ${answered}`);
        if (q.kind === 'multi' && (sum < answered || sum > answered * q.maxChoices))
          problems.push(`${q.id}: option sum ${sum} outside ${answered}..${answered * q.maxChoices}`);
      }
      return { votersMarked, ledgerLength, ballots: n, perQuestion, ok: problems.length === 0, problems };
    },

    /** User ids of the voters, in chunks (GETRANGE over each shard's bitmap). */
    async *voterIds(pollId: number, chunkBits?: number): AsyncGenerator<number[]> {
      const row = await rowOf(pollId);
      if (!row || row.state === 'draft') return;
      yield* ballots.voterIds(pollId, row.def.shards, chunkBits);
    },

    /** Record that these voters' points awards are made (the finalise sweep skips them). */
    async markVotesAwarded(pollId: number, userIds: number[]): Promise<void> {
      const row = await rowOf(pollId);
      if (!row || row.state === 'draft' || !userIds.length) return;
      await ballots.markAwarded(pollId, row.def.shards, userIds);
    },

    /** The finalise sweep's walk: every voter counted, those without a known award listed (chunks). */
    async *sweepChunks(pollId: number, chunkBits?: number): AsyncGenerator<{ voters: number; toAward: number[] }> {
      const row = await rowOf(pollId);
      if (!row || row.state === 'draft') return;
      yield* ballots.sweepChunks(pollId, row.def.shards, chunkBits);
    },

    // ---------------- moderator API ----------------

    async create(body: unknown, user: User): Promise<Poll> {
      const def = parseOr(pollCreateSchema, body, 'invalid_body', 'Invalid poll');
      const row = await store.create(def, user.id);
      log.info({ pollId: row.id, by: user.id }, 'poll draft created');
      return toPoll(row);
    },

    async update(pollId: number, body: unknown): Promise<Poll> {
      const row = await rowOf(pollId, true);
      if (!row) throw new AppError('not_found', 'No such poll');
      if (row.state !== 'draft') throw new AppError('invalid_state', 'Only a draft can be edited');
      const patch = parseOr(pollPatchSchema, body, 'invalid_body', 'Invalid poll change');
      const merged = pollCreateSchema.safeParse({ ...row.def, ...patch });
      if (!merged.success) throw new AppError('invalid_body', 'The poll would be invalid after this change', zodDetails(merged.error));
      const r = await store.updateDraft(pollId, merged.data);
      if (!r.ok) throw new AppError('invalid_state', 'Only a draft can be edited');
      return toPoll((await rowOf(pollId, true))!);
    },

    async publish(pollId: number): Promise<Poll> {
      const row = await rowOf(pollId, true);
      if (!row) throw new AppError('not_found', 'No such poll');
      if (row.state !== 'draft') throw new AppError('invalid_state', `The poll is already ${effectiveStatus(row, Date.now())}`);
      const issues = publishIssues(row.def, Date.now());
      if (issues.length) throw new AppError('invalid_poll', 'The poll cannot be published yet', issues);
      const t = await store.transition(pollId, ['draft'], 'scheduled', { publishedAt: new Date().toISOString() });
      if (!t.changed) throw new AppError('invalid_state', 'The poll changed meanwhile; reload it');
      // From here the definition cannot change (edits need a draft). Re-read it: an edit may have landed
      // between the check above and the state change; if that edit made it unpublishable, step back.
      const pub = (await rowOf(pollId, true))!;
      const late = publishIssues(pub.def, Date.now());
      if (late.length) {
        await store.transition(pollId, ['scheduled'], 'draft', { publishedAt: '' });
        throw new AppError('invalid_poll', 'The poll was edited meanwhile and cannot be published yet', late);
      }
      const opensAt = Date.parse(pub.def.opensAt!);
      const closesAt = Date.parse(pub.def.closesAt!);
      await store.writeShardWindows(pollId, pub.def.shards, opensAt, closesAt);
      await changed(pollId);
      const now = Date.now();
      await addJob('open', pollId, opensAt - now);
      await addJob('close', pollId, closesAt - now);
      const published = (await rowOf(pollId, true))!;
      const poll = toPoll(published);
      emitStatus(pollId, poll.status);
      log.info({ pollId, opensAt: pub.def.opensAt, closesAt: pub.def.closesAt, shards: pub.def.shards }, 'poll published');
      return poll;
    },

    /** Early close by a moderator: 409 unless the poll is scheduled or active. */
    async closeNow(pollId: number): Promise<Poll> {
      const row = await rowOf(pollId, true);
      if (!row) throw new AppError('not_found', 'No such poll');
      if (row.state === 'draft') throw new AppError('invalid_state', 'A draft cannot be closed; publish it first');
      if (row.state === 'closed' || row.state === 'finalised') throw new AppError('invalid_state', `The poll is already ${row.state}`);
      await service.close(pollId);
      return toPoll((await rowOf(pollId, true))!);
    },

    // ---------------- residents ----------------

    /** Cast a ballot (validated against the poll); 201-worthy receipt or an AppError. */
    async cast(pollId: number, user: User, body: unknown): Promise<BallotReceipt> {
      const row = await rowOf(pollId);
      if (!row || row.state === 'draft') throw new AppError('not_found', 'No such poll');
      const why = ineligibility(row.def, user);
      if (why) throw new AppError('not_eligible', why);
      const parsed = ballotBodySchema.safeParse(body);
      const issues = parsed.success ? ballotIssues(row.def.questions, parsed.data.answers) : [];
      if (!parsed.success || issues.length) {
        deps.refusals?.invalid(pollId);
        if (!parsed.success) throw new AppError('invalid_ballot', 'Invalid ballot', zodDetails(parsed.error));
        throw new AppError('invalid_ballot', issues[0].message, issues);
      }
      const { answers } = parsed.data;

      const normal: Record<string, string[]> = {};
      const tallyFields: string[] = [];
      for (const q of row.def.questions) {
        const chosen = answers[q.id];
        if (!chosen?.length) continue;
        normal[q.id] = chosen;
        tallyFields.push(`a:${q.id}`, ...chosen.map((o) => `o:${q.id}:${o}`));
      }
      const out = await ballots.cast(pollId, row.def.shards, user.id, {
        ...ballotIds(config.APP_SECRET, pollId, user.id),
        answersJson: JSON.stringify(normal),
        district: user.district ?? 'unknown',
        ageBand: ageBandOf(user.birthYear, new Date().getUTCFullYear()),
        cell: respondentCell(user, new Date().getUTCFullYear()),
        tallyFields,
      });
      switch (out.kind) {
        case 'ok':
          if (row.def.points > 0) {
            const job = { userId: user.id, reason: 'vote' as const, ref: String(pollId), points: row.def.points };
            queues.points
              .add('award', job, { jobId: pointsJobId(job) })
              .catch((err: Error) => log.error({ err: err.message, pollId, userId: user.id }, 'points award enqueue failed (finalise sweep covers it)'));
          }
          return { pollId, receipt: out.receipt };
        case 'already_voted':
          throw new AppError('already_voted', 'You have already voted in this poll', { pollId, receipt: out.receipt });
        case 'poll_closed':
          throw new AppError('poll_closed', 'The poll is closed');
        case 'poll_not_open':
          throw new AppError('poll_not_open', 'The poll is not open yet');
      }
    },

    /** `GET /api/polls/:id` for a viewer (null = anonymous). Drafts only for staff. */
    async view(pollId: number, user: User | null): Promise<PollView> {
      const row = await rowOf(pollId);
      if (!row || (row.state === 'draft' && !isStaff(user))) throw new AppError('not_found', 'No such poll');
      const poll = toPoll(row);
      const voted = user && row.state !== 'draft' ? await ballots.hasVoted(pollId, row.def.shards, user.id) : user ? false : null;
      const eligible = user ? ineligibility(row.def, user) === null : null;
      const results = row.state !== 'draft' && canSeeResults(row, poll.status, user, !!voted) ? await service.visibleResults(row) : null;
      return { poll, voted, eligible, results };
    },

    /** `GET /api/polls/:id/results`: 403 until you voted or the poll closed. */
    async resultsFor(pollId: number, user: User | null): Promise<PollResults> {
      const row = await rowOf(pollId);
      if (!row || (row.state === 'draft' && !isStaff(user))) throw new AppError('not_found', 'No such poll');
      const status = effectiveStatus(row, Date.now());
      const voted = user && row.state !== 'draft' ? await ballots.hasVoted(pollId, row.def.shards, user.id) : false;
      if (!canSeeResults(row, status, user, voted)) throw new AppError('forbidden', 'Results are shown once you have voted or the poll has closed');
      return service.visibleResults(row);
    },

    /** Final snapshot once finalised, live sums otherwise. */
    async visibleResults(row: PollRow): Promise<PollResults> {
      if (row.state === 'finalised') {
        const f = await service.getFinal(row.id);
        if (f) return f.results;
      }
      return resultsOf(row);
    },

    /**
     * The feed: `active`/`upcoming` polls whose audience includes the viewer (anonymous: city-wide
     * ones), `closed` ones whose audience includes them or whose results are public; staff see all
     * and may list drafts. Up to 1000 most recent polls are considered.
     */
    async list(user: User | null, q: PollListQuery): Promise<PollListItem[]> {
      const staff = isStaff(user);
      const reader = readsAllResults(user);
      if (q.status === 'draft' && !staff) throw new AppError('forbidden', 'Requires role: moderator or admin');
      const ids = await store.ids(1000);
      const rows = (await rowsOf(ids)).filter((r): r is PollRow => !!r);
      const now = Date.now();
      const want: PollStatus[] = q.status === 'active' ? ['active'] : q.status === 'upcoming' ? ['scheduled'] : q.status === 'closed' ? ['closed', 'finalised'] : ['draft'];
      const picked = rows
        .map((row) => ({ row, poll: toPoll(row, now) }))
        .filter(({ row, poll }) => {
          if (!want.includes(poll.status)) return false;
          if (staff) return true;
          if (reader && (poll.status === 'closed' || poll.status === 'finalised')) return true; // city hall answers every poll
          const inAudience = user ? ineligibility(row.def, user) === null : !isTargeted(row.def.audience);
          return poll.status === 'closed' || poll.status === 'finalised' ? inAudience || row.def.publicResults : inAudience;
        });
      const by = (f: (p: Poll) => string | null, dir: 1 | -1) => (a: { poll: Poll }, b: { poll: Poll }) =>
        dir * ((f(a.poll) ?? '').localeCompare(f(b.poll) ?? '') || a.poll.id - b.poll.id);
      picked.sort(
        q.status === 'active' ? by((p) => p.closesAt, 1) : q.status === 'upcoming' ? by((p) => p.opensAt, 1) : q.status === 'closed' ? by((p) => p.closesAt, -1) : by((p) => p.updatedAt, -1),
      );
      const page = picked.slice(0, q.limit);
      const voted = user ? await ballots.votedMany(page.filter(({ row }) => row.state !== 'draft').map(({ row }) => ({ id: row.id, shards: row.def.shards })), user.id) : null;
      return page.map(({ row, poll }) => ({ ...poll, voted: voted ? (row.state === 'draft' ? false : (voted.get(row.id) ?? false)) : null }));
    },

    /** Stop the pub/sub subscriber. */
    async shutdown(): Promise<void> {
      closed = true;
      cache.clear();
      if (sub) await closeRedis(sub);
      sub = null;
    },
  };
  return service;
}
export type PollService = ReturnType<typeof createPollService>;
