import { okrugOf } from '../../shared/districts.ts';
import { ageBandOf } from '../../shared/polls.ts';
import { cellKey } from '../../shared/representativeness.ts';
import type { User } from '../../shared/users.ts';

/**
 * The cell a voter is counted in for the representativeness panel: okrug, age band (this year), gender.
 * '' for an incomplete profile (such ballots are counted, not weighted).
 */
export function respondentCell(user: Pick<User, 'district' | 'birthYear' | 'gender'>, year: number): string {
  const okrug = okrugOf(user.district);
  const band = ageBandOf(user.birthYear, year);
  if (!okrug || band === 'unknown' || !user.gender) return '';
  return cellKey(okrug, band, user.gender);
}
