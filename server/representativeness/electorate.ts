import { isTargeted, type Audience, type Poll } from '../../shared/polls.ts';
import { cellParts } from '../../shared/representativeness.ts';
import { audienceYear, ineligibility } from '../polls/poll.access.ts';
import type { ResidentCellsStore } from './resident-cells.store.ts';
import type { UserStore } from '../users/user.store.ts';

/**
 * The cells of the eligible base (`district|birthYear|gender` -> registered residents) inside a poll's
 * audience, decided by the ballot check's own rule (poll.access.ts `ineligibility`) applied to each
 * cell as to a resident with that profile.
 */
export function cellsInAudience(cells: Record<string, number>, audience: Audience, year: number): [district: string, birthYear: number, gender: string, n: number][] {
  const out: [string, number, string, number][] = [];
  for (const [cell, n] of Object.entries(cells)) {
    const [district, birthYear, gender] = cellParts(cell);
    if (ineligibility({ audience }, { profileComplete: true, district, birthYear: Number(birthYear) }, year) === null) out.push([district, Number(birthYear), gender, n]);
  }
  return out;
}

/**
 * How many registered residents may vote in a poll: the base of its turnout. A city-wide poll takes
 * every registered resident (no profile needed); a targeted one those with a complete profile inside
 * its audience, ages counted in `audienceYear`. Read live (profile changes move the base at once).
 */
export function createElectorate(deps: { residents: Pick<ResidentCellsStore, 'all'>; users: Pick<UserStore, 'registered'> }) {
  return {
    async count(poll: Pick<Poll, 'audience' | 'opensAt' | 'closesAt' | 'closedAt'>, now = Date.now()): Promise<number> {
      if (!isTargeted(poll.audience)) return deps.users.registered();
      const inside = cellsInAudience(await deps.residents.all(), poll.audience, audienceYear(poll, now));
      return inside.reduce((s, [, , , n]) => s + n, 0);
    },
  };
}
export type Electorate = ReturnType<typeof createElectorate>;
