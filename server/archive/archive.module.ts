import type { Router } from 'express';
import type { PollService } from '../polls/poll.service.ts';
import type { PollViews } from '../polls/poll.views.ts';
import type { BallotService } from '../ballots/ballot.service.ts';
import type { DecisionService } from '../decisions/decision.service.ts';
import { createArchiveService } from './archive.service.ts';
import { archiveRoutes } from './archive.routes.ts';

/** The public archive and open data: read-only views over polls, ballots and decisions. */
export function createArchiveDomain(deps: {
  polls: Pick<PollService, 'get' | 'getFinal'>;
  pollViews: Pick<PollViews, 'list'>;
  ballots: Pick<BallotService, 'results'>;
  decisions: Pick<DecisionService, 'viewsOf'>;
  minGroup: number;
}) {
  return { archive: createArchiveService({ polls: deps.polls, feed: deps.pollViews, ballots: deps.ballots, decisions: deps.decisions, minGroup: deps.minGroup }) };
}
export type ArchiveDomain = ReturnType<typeof createArchiveDomain>;

/** `/api/archive`, `/api/polls/:id/results.csv|json`. */
export function archiveDomainRoutes(d: ArchiveDomain): Router {
  return archiveRoutes(d.archive);
}
