import type { Redis } from '../redis/connection.ts';
import type { Keys } from '../redis/keys.ts';
import { ROLES, type Role, type User } from '../../shared/users.ts';

type Row = Record<string, string>;

/** A user hash as read from Redis → User (null when empty). */
export function userFromRow(row: Row): User | null {
  if (!row.id) return null;
  const roles = (row.roles ?? 'resident').split(',').filter((r): r is Role => (ROLES as readonly string[]).includes(r));
  const user: User = {
    id: Number(row.id),
    phone: row.phone,
    name: row.name || null,
    district: row.district || null,
    birthYear: row.birthYear ? Number(row.birthYear) : null,
    gender: (row.gender || null) as User['gender'],
    roles,
    profileComplete: false,
    createdAt: row.createdAt,
  };
  user.profileComplete = Boolean(user.district && user.birthYear && user.gender);
  return user;
}

/**
 * Users live in Redis: a dense integer id (INCR) — the voter bitmaps index by it. `changed` is told of
 * every profile or role change (it drops cached sessions of the user: server/auth/session-cache.ts).
 */
export function createUserStore(redis: Redis, keys: Keys, changed: (c: { userId: number }) => Promise<void> = async () => {}) {
  /** Keeps each staff role's member set in step with the user's roles (residents are not indexed). */
  async function indexRoles(id: number, roles: readonly Role[]) {
    const p = redis.pipeline();
    for (const r of ROLES) if (r !== 'resident') (roles.includes(r) ? p.sadd(keys.roleMembers(r), String(id)) : p.srem(keys.roleMembers(r), String(id)));
    await p.exec();
  }
  return {
    /** Users holding any of the staff roles (ids, unsorted). */
    async withRoles(roles: readonly Exclude<Role, 'resident'>[]): Promise<number[]> {
      if (!roles.length) return [];
      const ids = await redis.sunion(...roles.map((r) => keys.roleMembers(r)));
      return ids.map(Number);
    },

    async get(id: number): Promise<User | null> {
      if (!Number.isSafeInteger(id) || id <= 0) return null;
      return userFromRow(await redis.hgetall(keys.user(id)));
    },

    async idByPhone(phone: string): Promise<number | null> {
      const id = await redis.hget(keys.userByPhone(), phone);
      return id ? Number(id) : null;
    },

    /** Get or create the user of a phone; `created` tells a first sign-in. Safe under races. */
    async getOrCreateByPhone(phone: string, initialRoles: Role[] = ['resident']): Promise<{ user: User; created: boolean }> {
      const existing = await redis.hget(keys.userByPhone(), phone);
      if (existing) return { user: (await this.get(Number(existing)))!, created: false };
      const id = await redis.incr(keys.userSeq());
      const won = await redis.hsetnx(keys.userByPhone(), phone, String(id));
      if (!won) {
        const other = Number(await redis.hget(keys.userByPhone(), phone));
        return { user: (await this.get(other))!, created: false };
      }
      const roles = Array.from(new Set<Role>(['resident', ...initialRoles]));
      await redis.hset(keys.user(id), { id: String(id), phone, roles: roles.join(','), createdAt: new Date().toISOString() });
      await indexRoles(id, roles);
      return { user: (await this.get(id))!, created: true };
    },

    async updateProfile(id: number, patch: Partial<Pick<User, 'name' | 'district' | 'birthYear' | 'gender'>>): Promise<User | null> {
      const fields: Record<string, string> = {};
      for (const [k, v] of Object.entries(patch)) if (v !== undefined) fields[k] = v === null ? '' : String(v);
      if (Object.keys(fields).length) {
        await redis.hset(keys.user(id), fields);
        await changed({ userId: id });
      }
      return this.get(id);
    },

    async setRoles(id: number, roles: Role[]): Promise<User | null> {
      const set = Array.from(new Set<Role>(['resident', ...roles]));
      await redis.hset(keys.user(id), 'roles', set.join(','));
      await indexRoles(id, set);
      await changed({ userId: id });
      return this.get(id);
    },

    /**
     * Marks that the profile-completion award was queued for this user; true only the first time.
     * (A field of the user hash, so it goes wherever the user goes.)
     */
    async markProfileRewarded(id: number): Promise<boolean> {
      return (await redis.hsetnx(keys.user(id), 'profileRewardedAt', new Date().toISOString())) === 1;
    },

    async profileRewarded(id: number): Promise<boolean> {
      return (await redis.hexists(keys.user(id), 'profileRewardedAt')) === 1;
    },

    /** Registered users (one per phone, whatever their profile or roles). */
    async registered(): Promise<number> {
      return redis.hlen(keys.userByPhone());
    },

    async count(): Promise<number> {
      return Number((await redis.get(keys.userSeq())) ?? 0);
    },
  };
}
export type UserStore = ReturnType<typeof createUserStore>;
