import type { AppContext } from '../../server/context.ts';
import type { Role, User } from '../../shared/users.ts';
import { SESSION_COOKIE } from '../../server/auth/auth.middleware.ts';
import { TEST_ORIGIN } from './context.ts';

let seq = 0;

/**
 * A signed-in user made directly through the stores (no OTP round trip): for tests of other domains.
 * Returns headers ready for fetch (cookie + allowed Origin + JSON content type).
 */
export async function createTestUser(
  ctx: AppContext,
  opts: { phone?: string; roles?: Role[]; profile?: Partial<Pick<User, 'name' | 'district' | 'birthYear' | 'gender'>> | null } = {},
): Promise<{ user: User; cookie: string; headers: Record<string, string> }> {
  const phone = opts.phone ?? `+7900${String(process.pid % 1000).padStart(3, '0')}${String(++seq).padStart(4, '0')}`;
  let { user } = await ctx.users.getOrCreateByPhone(phone);
  if (opts.roles) user = (await ctx.users.setRoles(user.id, opts.roles))!;
  const profile = opts.profile === undefined ? { name: 'Test Resident', district: 'arbat', birthYear: 1990, gender: 'female' as const } : opts.profile;
  if (profile) user = (await ctx.users.updateProfile(user.id, profile))!;
  const session = await ctx.sessions.create(user.id);
  const cookie = `${SESSION_COOKIE}=${session.id}`;
  return { user, cookie, headers: { cookie, origin: TEST_ORIGIN, 'content-type': 'application/json' } };
}
