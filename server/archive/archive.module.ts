import type { Router } from 'express';
import type { PollService } from '../polls/poll.service.ts';
import type { PollViews } from '../polls/poll.views.ts';
import type { BallotService } from '../ballots/ballot.service.ts';
import type { DecisionService } from '../decisions/decision.service.ts';
import type { Db } from '../db/db.ts';
import type { Logger } from '../logger.ts';
import type { Redis } from '../redis/connection.ts';
import type { Keys } from '../redis/keys.ts';
import { createArchiveService } from './archive.service.ts';
import { createArchiveStore } from './archive.store.ts';
import { createArchiveSync } from './archive.sync.ts';
import { archiveRoutes } from './archive.routes.ts';

/**
 * The public archive and open data: read-only views over polls, ballots and decisions. With PostgreSQL
 * (`db`, shared with Our City; `dbReady` once migrated) finalised polls are archived and searched there.
 */
export function createArchiveDomain(deps: {
  polls: Pick<PollService, 'get' | 'getFinal'>;
  pollViews: Pick<PollViews, 'list'>;
  ballots: Pick<BallotService, 'results'>;
  decisions: Pick<DecisionService, 'viewsOf'>;
  db: Db | null;
  dbReady: () => boolean;
  redis: Redis;
  keys: Keys;
  logger: Logger;
  minGroup: number;
}) {
  const store = deps.db ? createArchiveStore(deps.db) : null;
  const archiveSync = createArchiveSync({ store, isReady: deps.dbReady, redis: deps.redis, keys: deps.keys, polls: deps.polls, logger: deps.logger.child({ domain: 'archive' }) });
  const archive = createArchiveService({ polls: deps.polls, feed: deps.pollViews, ballots: deps.ballots, decisions: deps.decisions, store, isReady: deps.dbReady, sync: archiveSync, minGroup: deps.minGroup });
  return { archive, archiveSync };
}
export type ArchiveDomain = ReturnType<typeof createArchiveDomain>;

/** `/api/archive`, `/api/polls/:id/results.csv|json`. */
export function archiveDomainRoutes(d: ArchiveDomain): Router {
  return archiveRoutes(d.archive);
}
