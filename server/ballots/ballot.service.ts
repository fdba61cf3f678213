import type { Config } from '../config.ts';
import { coalesceReads } from '../coalesce.ts';
import type { Logger } from '../logger.ts';
import type { Queues } from '../jobs/queues.ts';
import { AppError, zodDetails } from '../errors.ts';
import type { User } from '../../shared/users.ts';
import { ageBandOf, AGE_BANDS, ballotBodySchema, ballotIssues, type BallotReceipt, type PollFinal, type PollRate, type PollResults } from '../../shared/polls.ts';
import type { PollCache } from '../polls/poll.cache.ts';
import type { PollRow } from '../polls/poll.store.ts';
import { ineligibility } from '../polls/poll.access.ts';
import type { BallotStore } from './ballot.store.ts';
import type { AwardBatchStore } from './award-batch.store.ts';
import { ballotIds } from './ballot-ids.ts';
import { createAwardBatchQueue } from './award-batch.queue.ts';
import { ballotTallyFields, splitBreakdown, tallyField } from './tally-fields.ts';
import type { RefusalCounter } from './refusal-counter.ts';
import { respondentCell } from '../representativeness/cells.ts';

export type PollIntegrity = {
  votersMarked: number;
  ledgerLength: number;
  ballots: number;
  /** Ballots that answered each question (the answered counters kept by the cast script). */
  perQuestion: Record<string, number>;
  ok: boolean;
  /** Why `ok` is false (empty when ok). */
  problems: string[];
};

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
const bandOrder = (k: string) => (k === 'other' ? 99 : k === 'unknown' ? 98 : (AGE_BANDS as readonly string[]).indexOf(k));

export type BallotServiceDeps = {
  cache: Pick<PollCache, 'row' | 'rows'>;
  store: BallotStore;
  /** The vote-award queues of the poll's shards (server/ballots/award-batch.store.ts). */
  awards: Pick<AwardBatchStore, 'clear'>;
  /** The final snapshot of a poll, once written (the lifecycle owns it). */
  finals: { getFinal(pollId: number): Promise<PollFinal | null> };
  config: Pick<Config, 'APP_SECRET' | 'RESULTS_MIN_GROUP_SIZE' | 'AWARD_BATCH_DELAY_MS'>;
  logger: Logger;
  queues: Pick<Queues, 'points'>;
  /** Counts ballots refused as invalid (before the cast script, which counts the other refusals). */
  refusals?: Pick<RefusalCounter, 'invalid'>;
  now?: () => number;
};

/**
 * The vote path and everything read from ballots: cast (one Lua script on the voter's shard slot),
 * results summed over shards, integrity cross-checks, the voter walks of the fan-out and the points
 * sweep. Never sees Express or Socket.IO.
 */
/** Most ledger entries one per-minute read takes per shard (a hot poll's oldest minutes then read low). */
const RATE_READ_CAP = 20_000;

export function createBallotService(deps: BallotServiceDeps) {
  const { cache, store, finals, config, queues } = deps;
  const now = deps.now ?? Date.now;
  const log = deps.logger.child({ domain: 'ballots' });
  const minGroup = config.RESULTS_MIN_GROUP_SIZE;
  const awardBatch = createAwardBatchQueue({ points: queues.points, delayMs: config.AWARD_BATCH_DELAY_MS, logger: log });
  /** A published poll's row; drafts have no ballots. */
  const published = async (pollId: number) => {
    const row = await cache.row(pollId);
    return row && row.state !== 'draft' ? row : null;
  };

  // Live sums of one poll: overlapping reads (watchers joining by the thousand, the broadcaster's tick, poll
  // pages) share one Redis read that started after each of them asked (server/coalesce.ts).
  const sums = coalesceReads((key: string) => {
    const [id, shards] = key.split(':').map(Number);
    return store.sums(id, shards);
  });

  async function resultsOf(row: PollRow): Promise<PollResults> {
    const { tally, breakdown } = await sums(`${row.id}:${row.def.shards}`);
    const { district, ageBand } = splitBreakdown(breakdown);
    return {
      pollId: row.id,
      version: tally[tallyField.version] ?? 0,
      ballots: tally[tallyField.ballots] ?? 0,
      // respondents: ballots that answered the question, the base of its percentages
      questions: row.def.questions.map((q) => ({
        id: q.id,
        respondents: tally[tallyField.answered(q.id)] ?? 0,
        options: q.options.map((o) => ({ id: o.id, count: tally[tallyField.option(q.id, o.id)] ?? 0 })),
      })),
      breakdown: {
        district: mergeSmallGroups(district, minGroup),
        ageBand: mergeSmallGroups(ageBand, minGroup).sort((x, y) => bandOrder(x.key) - bandOrder(y.key)),
        minGroup,
      },
    };
  }

  const service = {
    async hasVoted(pollId: number, userId: number): Promise<boolean> {
      const row = await published(pollId);
      return row ? store.hasVoted(pollId, row.def.shards, userId) : false;
    },

    /** Whether one user voted in each of these polls (one round trip; drafts read as false). */
    async votedMany(rows: PollRow[], userId: number): Promise<Map<number, boolean>> {
      return store.votedMany(rows.filter((r) => r.state !== 'draft').map((r) => ({ id: r.id, shards: r.def.shards })), userId);
    },

    /** Live results (shards summed, small groups merged into "other"). Throws not_found. */
    async results(pollId: number): Promise<PollResults> {
      const row = await cache.row(pollId);
      if (!row) throw new AppError('not_found', 'No such poll');
      return resultsOf(row);
    },

    /** The final snapshot once finalised, the live sums otherwise. */
    async visibleResults(row: PollRow): Promise<PollResults> {
      if (row.state === 'finalised') {
        const f = await finals.getFinal(row.id);
        if (f) return f.results;
      }
      return resultsOf(row);
    },

    /**
     * Ballots per minute over the last `minutes` (oldest first), from the ledger streams' ids (their
     * arrival times): survives reloads and restarts, costs at most RATE_READ_CAP entries per shard.
     */
    async rate(pollId: number, minutes: number, nowMs = Date.now()): Promise<PollRate> {
      const row = await cache.row(pollId);
      if (!row) throw new AppError('not_found', 'No such poll');
      const perMinute = new Array<number>(minutes).fill(0);
      if (row.state === 'draft') return { pollId, perMinute, at: nowMs, complete: true };
      const since = nowMs - minutes * 60_000;
      const shards = await store.arrivals(pollId, row.def.shards, since, RATE_READ_CAP);
      for (const times of shards) for (const t of times) {
        const b = minutes - 1 - Math.floor((nowMs - t) / 60_000);
        if (b >= 0 && b < minutes) perMinute[b]++;
      }
      return { pollId, perMinute, at: nowMs, complete: shards.every((s) => s.length < RATE_READ_CAP) };
    },

    async ballotsCount(pollId: number): Promise<number> {
      return (await service.results(pollId)).ballots;
    },

    /** Sum of shard tally versions per poll (0 for unknown polls); one round trip once definitions are cached. */
    async tallyVersions(pollIds: number[]): Promise<number[]> {
      const rows = await cache.rows(pollIds);
      return store.versions(rows.map((r, i) => ({ id: pollIds[i], shards: r && r.state !== 'draft' ? r.def.shards : 0 })));
    },

    /** Cast a ballot (validated against the poll); a receipt or an AppError. */
    async cast(pollId: number, user: User, body: unknown): Promise<BallotReceipt> {
      const row = await published(pollId);
      if (!row) throw new AppError('not_found', 'No such poll');
      const why = ineligibility(row.def, user, new Date(now()).getUTCFullYear());
      if (why) throw new AppError('not_eligible', why);
      const parsed = ballotBodySchema.safeParse(body);
      const issues = parsed.success ? ballotIssues(row.def.questions, parsed.data.answers) : [];
      if (!parsed.success || issues.length) {
        deps.refusals?.invalid(pollId);
        if (!parsed.success) throw new AppError('invalid_ballot', 'Invalid ballot', zodDetails(parsed.error));
        throw new AppError('invalid_ballot', issues[0].message, issues);
      }
      const { answers } = parsed.data;

      const { normal, fields } = ballotTallyFields(row.def.questions, answers);
      const out = await store.cast(pollId, row.def.shards, user.id, {
        ...ballotIds(config.APP_SECRET, pollId, user.id),
        answersJson: JSON.stringify(normal),
        district: user.district ?? 'unknown',
        ageBand: ageBandOf(user.birthYear, new Date(now()).getUTCFullYear()),
        cell: respondentCell(user, new Date(now()).getUTCFullYear()),
        tallyFields: fields,
        awardPoints: row.def.points > 0,
      });
      switch (out.kind) {
        case 'ok':
          if (out.awardBatch) awardBatch({ pollId, shard: out.shard, batch: out.awardBatch });
          return { pollId, receipt: out.receipt };
        case 'already_voted':
          throw new AppError('already_voted', 'You have already voted in this poll', { pollId, receipt: out.receipt });
        case 'poll_closed':
          throw new AppError('poll_closed', 'The poll is closed');
        case 'poll_not_open':
          throw new AppError('poll_not_open', 'The poll is not open yet');
      }
    },

    /**
     * Cross-check: voters marked (BITCOUNT) == ledger length (XLEN) == ballots (tally), and per question:
     * a required question was answered on every ballot, an optional one on at most every ballot; the
     * option counts of a single-choice question add up to its answered count, of a multi-choice one lie
     * within answered..answered×maxChoices.
     */
    async integrity(pollId: number): Promise<PollIntegrity> {
      const row = await cache.row(pollId);
      if (!row) throw new AppError('not_found', 'No such poll');
      const { votersMarked, ledgerLength, tally } = await store.counts(pollId, row.def.shards);
      const n = tally[tallyField.ballots] ?? 0;
      const problems: string[] = [];
      if (votersMarked !== n) problems.push(`voters marked ${votersMarked} != ballots ${n}`);
      if (ledgerLength !== n) problems.push(`ledger length ${ledgerLength} != ballots ${n}`);
      const perQuestion: Record<string, number> = {};
      for (const q of row.def.questions) {
        const answered = tally[tallyField.answered(q.id)] ?? 0;
        perQuestion[q.id] = answered;
        const sum = q.options.reduce((s, o) => s + (tally[tallyField.option(q.id, o.id)] ?? 0), 0);
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
      const row = await published(pollId);
      if (row) yield* store.voterIds(pollId, row.def.shards, chunkBits);
    },

    /** Record that these voters' points awards are made (the finalise sweep skips them). */
    async markVotesAwarded(pollId: number, userIds: number[]): Promise<void> {
      const row = await published(pollId);
      if (row && userIds.length) await store.markAwarded(pollId, row.def.shards, userIds);
    },

    /** After the finalise sweep: empty the poll's award queues (a crash may have left voters in them). */
    async clearAwardQueues(pollId: number): Promise<void> {
      const row = await published(pollId);
      if (row) await deps.awards.clear(pollId, row.def.shards);
    },

    /** The finalise sweep's walk: every voter counted, those without a known award listed (chunks). */
    async *sweepChunks(pollId: number, chunkBits?: number): AsyncGenerator<{ voters: number; toAward: number[] }> {
      const row = await published(pollId);
      if (row) yield* store.sweepChunks(pollId, row.def.shards, chunkBits);
    },
  };
  return service;
}
export type BallotService = ReturnType<typeof createBallotService>;
