import { createRedis, closeRedis, type Redis } from '../../server/redis/connection.ts';
import { createKeys } from '../../server/redis/keys.ts';
import { createUserStore } from '../../server/users/user.store.ts';
import { createSessionStore } from '../../server/auth/session.store.ts';
import { SESSION_COOKIE } from '../../server/auth/auth.middleware.ts';
import { progress } from './util.ts';

export type Voter = { id: number; cookie: string };

const DISTRICTS = ['arbat', 'tverskoy', 'presnensky', 'khamovniki', 'basmanny', 'zamoskvorechye', 'meshchansky', 'yakimanka'];
const GENDERS = ['female', 'male', 'other', 'unspecified'] as const;

/**
 * Distinct residents with complete profiles and live sessions, created through the project's own stores
 * (users: server/users, sessions: server/auth) exactly as sign-in leaves them.
 */
export async function seedVoters(redisUrl: string, prefix: string, n: number, opts: { idle?: number; absolute?: number } = {}): Promise<Voter[]> {
  const redis: Redis = createRedis(redisUrl, { name: 'bench-seed' });
  try {
    const keys = createKeys(prefix);
    const users = createUserStore(redis, keys);
    const sessions = createSessionStore(redis, keys, { idleSeconds: opts.idle ?? 7 * 86400, absoluteSeconds: opts.absolute ?? 30 * 86400 });
    const out = new Array<Voter>(n);
    let next = 0;
    let done = 0;
    let lastReport = Date.now();
    const worker = async () => {
      for (;;) {
        const i = next++;
        if (i >= n) return;
        const phone = `+7999${String(i).padStart(7, '0')}`;
        const { user } = await users.getOrCreateByPhone(phone);
        await users.updateProfile(user.id, {
          name: `Resident ${i}`,
          district: DISTRICTS[i % DISTRICTS.length],
          birthYear: 1950 + (i % 55),
          gender: GENDERS[i % GENDERS.length],
        });
        const s = await sessions.create(user.id);
        out[i] = { id: user.id, cookie: `${SESSION_COOKIE}=${s.id}` };
        done++;
        if (Date.now() - lastReport > 3000) {
          lastReport = Date.now();
          progress(`seeding voters: ${done}/${n}`);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(400, n) }, worker));
    return out;
  } finally {
    await closeRedis(redis);
  }
}
