import type { Poll, PollStatus } from '../../shared/polls.ts';
import type { PollRow } from './poll.store.ts';

/** Effective status: the stored state and the clock (the lifecycle worker being down never shows stale status). */
export function effectiveStatus(row: Pick<PollRow, 'state' | 'def'>, nowMs: number): PollStatus {
  if (row.state === 'scheduled' || row.state === 'active') {
    if (row.def.closesAt && nowMs >= Date.parse(row.def.closesAt)) return 'closed';
    if (row.def.opensAt && nowMs >= Date.parse(row.def.opensAt)) return 'active';
    return 'scheduled';
  }
  return row.state;
}

/** The API's view of a stored poll: its definition, effective status and stamps. */
export const toPoll = (row: PollRow, now = Date.now()): Poll => ({
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
