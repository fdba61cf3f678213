import { AppError } from '../errors.ts';
import { isTargeted, type Poll, type PollDefinition, type PollStatus } from '../../shared/polls.ts';
import type { User } from '../../shared/users.ts';

/**
 * The one access and visibility policy of polls and their results. HTTP (poll routes), sockets
 * (poll:watch), the archive and open data all ask here; nothing else decides who sees what.
 */

/** Staff: moderators, officials (city hall answers every poll) and admins. They see drafts, every poll and every result. */
const STAFF_ROLES: ReadonlySet<string> = new Set(['moderator', 'official', 'admin']);
export const isStaff = (user: Pick<User, 'roles'> | null | undefined): boolean => !!user && user.roles.some((r) => STAFF_ROLES.has(r));

/** What the eligibility rule reads of a person: their profile (a user, or a cell of the eligible base). */
export type EligibilityProfile = Pick<User, 'profileComplete' | 'district' | 'birthYear'>;

/** Why a user may not vote in a poll, or null when they may. Ages are `year - birthYear`. */
export function ineligibility(def: Pick<PollDefinition, 'audience'>, user: EligibilityProfile, year = new Date().getUTCFullYear()): string | null {
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
 * The year whose ages `ineligibility` applies to a poll as a whole (its eligible count). A ballot is
 * checked in the year it is cast, so this is the year of the voting moment nearest `now`: now while the
 * poll runs, its opening before, its real end (early close included) after.
 */
export function audienceYear(poll: Pick<Poll, 'opensAt' | 'closesAt' | 'closedAt'>, now: number): number {
  const opens = poll.opensAt ? Date.parse(poll.opensAt) : now;
  const ends = Date.parse(poll.closedAt ?? poll.closesAt ?? '');
  return new Date(Math.max(opens, Number.isFinite(ends) ? Math.min(now, ends) : now)).getUTCFullYear();
}

/** What the policy reads of a poll: its effective status and its visibility flags. */
export type AccessPoll = Pick<PollDefinition, 'audience' | 'publicLive' | 'publicResults'> & { status: PollStatus };

const isOver = (s: PollStatus) => s === 'closed' || s === 'finalised';

/** Drafts exist only for staff: anyone else gets the same 404 as for a poll that does not exist. */
export function assertVisible(poll: AccessPoll | null, user: User | null): asserts poll is AccessPoll {
  if (!poll || (poll.status === 'draft' && !isStaff(user))) throw new AppError('not_found', 'No such poll');
}

/**
 * Who sees a poll's results, live or final:
 * - staff: always;
 * - a voter: always (after their ballot);
 * - anyone, signed in or not, while a public-live poll is active (the projector view);
 * - once closed/finalised: everyone if its results are public, otherwise its audience (signed in and
 *   eligible) and its voters.
 * Nobody else sees a scheduled or active poll's results.
 */
export function canSeeResults(poll: AccessPoll, user: User | null, voted: boolean): boolean {
  if (isStaff(user) || voted) return true;
  if (poll.status === 'active') return poll.publicLive;
  if (!isOver(poll.status)) return false;
  return poll.publicResults || (!!user && ineligibility(poll, user) === null);
}

/**
 * Totals follow the anonymity threshold of breakdown groups: with 1..minGroup-1 ballots a count by
 * option can single out a voter's choice (with one ballot the result IS that voter's choice), so only
 * staff see them until `minGroup` ballots are in. No ballots reveal nothing.
 */
export const totalsShown = (user: Pick<User, 'roles'> | null, ballots: number, minGroup: number): boolean =>
  isStaff(user) || ballots === 0 || ballots >= minGroup;

/**
 * The open count (integrity page, published ballot ledger, representativeness panel): staff at any time
 * (live while the poll runs); anyone else once the poll is over, under the same rule as its results —
 * the anonymity threshold on totals included (the caller refuses while they are withheld).
 */
export function canSeeOpenCount(poll: AccessPoll, user: User | null, voted: boolean): boolean {
  if (isStaff(user)) return true;
  return isOver(poll.status) && canSeeResults(poll, user, voted);
}

/**
 * Whether a poll appears in a viewer's feed: staff see all; open and upcoming polls whose audience
 * includes the viewer (anonymous: city-wide ones); closed ones whose audience includes the viewer or
 * whose results are public.
 */
export function inFeed(poll: AccessPoll, user: User | null): boolean {
  if (isStaff(user)) return true;
  const inAudience = user ? ineligibility(poll, user) === null : !isTargeted(poll.audience);
  return isOver(poll.status) ? inAudience || poll.publicResults : inAudience;
}

/** The archive's results column: public results, or staff (city hall must see every poll it answers). */
export const archiveShowsResults = (poll: Pick<AccessPoll, 'publicResults'>, user: User | null): boolean => poll.publicResults || isStaff(user);

/** Open data (anonymous, cacheable exports) carries only polls whose results are public. */
export function assertOpenData(poll: AccessPoll | null): asserts poll is AccessPoll {
  if (!poll || poll.status === 'draft') throw new AppError('not_found', 'No such poll');
  if (!poll.publicResults) throw new AppError('forbidden', 'The results of this poll are not public');
}
