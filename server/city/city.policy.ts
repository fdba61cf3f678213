import type { User } from '../../shared/users.ts';

/**
 * Who may do what in Our City: the one place routes, socket handlers and the service ask. Moderators
 * route/reject/merge; responders answer for their organisations; officials and admins supervise (and
 * admins may act as any of them); staff see actor names on timelines.
 */
export const cityPolicy = {
  canModerate: (u: User | null | undefined) => Boolean(u?.roles.some((r) => r === 'moderator' || r === 'admin')),
  /** null = any organisation (admins); [] = none. */
  answerScope: (u: User | null | undefined, bound: number[]): number[] | null => (u?.roles.includes('admin') ? null : u?.roles.includes('responder') ? bound : []),
  isStaff: (u: User | null | undefined) => Boolean(u?.roles.some((r) => r !== 'resident')),
  canSupervise: (u: User | null | undefined) => Boolean(u?.roles.some((r) => r === 'official' || r === 'admin')),
  canAdminister: (u: User | null | undefined) => Boolean(u?.roles.includes('admin')),
};
