import type { Logger } from '../logger.ts';
import { AppError } from '../errors.ts';
import type { Poll, PollResults } from '../../shared/polls.ts';
import type { User } from '../../shared/users.ts';
import type { PollIntegrityReport } from '../../shared/integrity.ts';
import type { LedgerExport } from '../../shared/ledger.ts';
import type { Representativeness } from '../../shared/representativeness.ts';
import { canSeeOpenCount } from '../polls/poll.access.ts';
import type { PollService } from '../polls/poll.service.ts';
import type { PollViews } from '../polls/poll.views.ts';
import type { BallotService } from '../ballots/ballot.service.ts';
import { legacyVoterHash, ballotIds } from '../ballots/ballot-ids.ts';
import type { OpenCountStore } from './open-count.store.ts';
import { exportLedger, ledgerDir, ledgerFile, ledgerFilePresent } from './ledger-export.ts';
import type { RepresentativenessService } from '../representativeness/representativeness.service.ts';

/** What the open count needs of the polls domain. */
export type OpenCountPollSource = {
  polls: Pick<PollService, 'get' | 'getFinal'>;
  ballots: Pick<BallotService, 'results' | 'visibleResults' | 'integrity' | 'voterIds'>;
  views: Pick<PollViews, 'access'>;
};

const MINUTE = 60_000;

/**
 * The open count of a poll: the integrity report (the platform's own counters), the published ballot
 * ledger (exported at finalisation) and the representativeness panel. Who sees them: staff and city hall
 * (moderators, officials, admins) at any time; everyone else once the poll is closed, under the same
 * rule as its results (public results, or the poll's audience).
 */
export function createIntegrityService(deps: {
  source: OpenCountPollSource;
  store: OpenCountStore;
  representativeness: RepresentativenessService;
  dataDir: string;
  prefix: string;
  secret: string;
  logger: Logger;
}) {
  const { store } = deps;
  const { polls, ballots, views } = deps.source;

  /** Every open-count view asks the one access policy (poll.access.ts); returns the poll and its results. */
  async function visible(pollId: number, user: User | null): Promise<{ poll: Poll; results: PollResults }> {
    const a = await views.access(pollId, user);
    if (a.row.state === 'draft') throw new AppError('not_found', 'No such poll');
    if (!canSeeOpenCount(a.poll, user, !!a.voted)) throw new AppError('forbidden', 'The open count is public once the poll has closed');
    // below the anonymity threshold the ledger, like the totals, would single out a voter's choice
    if (a.withheld) throw new AppError('forbidden', `Too few votes to show yet: the open count appears from ${a.withheld.minGroup} ballots`, a.withheld);
    return { poll: a.poll, results: a.results ?? (await ballots.visibleResults(a.row)) };
  }

  /** The finalised snapshot's ledger record and the file it names, or a 4xx saying why not. */
  async function publishedLedger(pollId: number, user: User | null, ext: 'jsonl' | 'csv'): Promise<{ path: string; record: LedgerExport; sha256: string; bytes: number }> {
    const { poll } = await visible(pollId, user);
    if (!poll.publicLedger) throw new AppError('not_found', 'This poll does not publish its ballot ledger');
    const final = await polls.getFinal(pollId);
    if (!final) throw new AppError('invalid_state', 'The ballot ledger is published once the poll is finalised', { status: poll.status });
    if (!final.ledger) throw new AppError('not_found', 'This poll was finalised without a published ledger');
    const file = final.ledger[ext];
    const path = ledgerFile(ledgerDir(deps.dataDir, deps.prefix, pollId), file.sha256, ext);
    if (!(await ledgerFilePresent(path, file.bytes))) {
      deps.logger.error({ pollId, path }, 'published ledger file missing or changed on this host');
      throw new AppError('unavailable', 'The ledger file is not available on this server; try again later');
    }
    return { path, record: final.ledger, sha256: file.sha256, bytes: file.bytes };
  }

  return {
    async report(pollId: number, user: User | null): Promise<PollIntegrityReport> {
      const { poll, results } = await visible(pollId, user);
      const [final, counts, awarded] = await Promise.all([polls.getFinal(pollId), store.counts(pollId, poll.shards), store.awarded(pollId, poll.shards)]);
      const check = final?.integrity ? { source: 'finalise' as const, ...final.integrity } : await ballots.integrity(pollId).then((i) => ({ source: 'live' as const, ballots: i.ballots, ledgerLength: i.ledgerLength, votersMarked: i.votersMarked, ok: i.ok }));
      return {
        pollId,
        status: poll.status,
        live: !final,
        finalisedAt: final?.finalisedAt ?? null,
        ballots: results.ballots,
        refused: counts.refused,
        check,
        points: { perBallot: poll.points, awarded, ballots: results.ballots },
        perMinute: [...counts.perMinute].sort((a, b) => a[0] - b[0]).map(([m, ballots]) => ({ at: new Date(m * MINUTE).toISOString(), ballots })),
        publicLedger: poll.publicLedger,
        ledger: final?.ledger ?? null,
      };
    },

    async representativeness(pollId: number, user: User | null): Promise<Representativeness> {
      const { poll, results } = await visible(pollId, user);
      const final = await polls.getFinal(pollId);
      return final?.representativeness ?? deps.representativeness.compute(poll, results.ballots);
    },

    publishedLedger,

    /**
     * The finalise step's part: export the ledger (when the poll publishes it) and freeze the panel.
     * Runs after voting stopped on every shard and before the snapshot is written.
     */
    async finaliseExtras(pollId: number, log: Logger, progress: (p: { exported: number; of: number }) => unknown = () => {}): Promise<{ ledger?: LedgerExport; representativeness: Representativeness }> {
      const poll = await polls.get(pollId);
      if (!poll) throw new AppError('not_found', 'No such poll');
      const results = await ballots.results(pollId);
      const ledger = poll.publicLedger
        ? await exportLedger(
            { store, dir: ledgerDir(deps.dataDir, deps.prefix, pollId), logger: log },
            {
              pollId,
              shards: poll.shards,
              questionIds: poll.questions.map((q) => q.id),
              legacyTags: async () => {
                const map = new Map<string, string>();
                for await (const ids of ballots.voterIds(pollId)) {
                  for (const id of ids) map.set(legacyVoterHash(deps.secret, pollId, id), ballotIds(deps.secret, pollId, id).voterHash);
                }
                return map;
              },
            },
            progress,
          )
        : undefined;
      return { ledger, representativeness: await deps.representativeness.compute(poll, results.ballots) };
    },
  };
}
export type IntegrityService = ReturnType<typeof createIntegrityService>;
