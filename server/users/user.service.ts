import type { Logger } from '../logger.ts';
import type { Queues } from '../jobs/queues.ts';
import type { Role, User } from '../../shared/users.ts';
import type { ProfilePatchBody } from '../../shared/auth.ts';
import { okrugOf, type OkrugId } from '../../shared/districts.ts';
import { pointsJobId } from '../../shared/jobs.ts';
import { AppError } from '../errors.ts';
import type { UserStore } from './user.store.ts';
import type { ResidentCellsStore } from '../representativeness/resident-cells.store.ts';
import { PROFILE_POINTS } from '../../shared/values/users.ts';

/**
 * The resident's own profile and the admins' role management. No cache: every request re-reads the
 * user, so a role change takes effect on existing sessions at once.
 */
export function createUserService(deps: { users: UserStore; queues: Pick<Queues, 'points'>; logger: Logger; residents?: Pick<ResidentCellsStore, 'track'> }) {
  const log = deps.logger.child({ component: 'users' });

  const view = (user: User): { user: User; okrug: OkrugId | null } => ({ user, okrug: okrugOf(user.district) });

  return {
    view,

    /**
     * Apply a validated profile patch. When the profile is complete and its award was never queued,
     * queue the one-off `profile` points award (deterministic job id; the points ledger is idempotent
     * too), then mark it — so a failed enqueue is retried by the next save, never double-paid.
     */
    async updateProfile(userId: number, patch: ProfilePatchBody): Promise<{ user: User; okrug: OkrugId | null }> {
      const user = await deps.users.updateProfile(userId, patch);
      if (!user) throw new AppError('not_found', 'No such user');
      // the eligible base (representativeness panel) follows every profile change
      await deps.residents?.track(userId);
      if (user.profileComplete && !(await deps.users.profileRewarded(userId))) {
        const job = { userId, reason: 'profile' as const, ref: 'profile', points: PROFILE_POINTS };
        await deps.queues.points.add('award', job, { jobId: pointsJobId(job) });
        if (await deps.users.markProfileRewarded(userId)) log.info({ userId }, 'profile completed: points award queued');
      }
      return view(user);
    },

    async get(id: number): Promise<User> {
      const user = await deps.users.get(id);
      if (!user) throw new AppError('not_found', `No user ${id}`);
      return user;
    },

    async getByPhone(phone: string): Promise<User> {
      const id = await deps.users.idByPhone(phone);
      const user = id ? await deps.users.get(id) : null;
      if (!user) throw new AppError('not_found', 'No user with this phone');
      return user;
    },

    /** Replace a user's roles (resident is always kept). An admin cannot drop their own admin role. */
    async setRoles(actor: User, targetId: number, roles: Role[]): Promise<User> {
      const target = await deps.users.get(targetId);
      if (!target) throw new AppError('not_found', `No user ${targetId}`);
      if (actor.id === targetId && !roles.includes('admin')) {
        throw new AppError('conflict', 'You cannot remove your own admin role (ask another admin)');
      }
      const updated = (await deps.users.setRoles(targetId, roles))!;
      log.info({ by: actor.id, userId: targetId, from: target.roles, to: updated.roles }, 'roles changed');
      return updated;
    },
  };
}
export type UserService = ReturnType<typeof createUserService>;
