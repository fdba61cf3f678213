import { describe, it, expect, afterAll } from 'vitest';
import { testContext } from '../helpers/context.ts';
import { createSessionCache } from '../../server/auth/session-cache.ts';
import { createKeys } from '../../server/redis/keys.ts';
import type { User } from '../../shared/users.ts';

const user = (id: number): User => ({ id, phone: `+7999${id}`, name: null, district: 'arbat', birthYear: 1980, gender: 'female', roles: ['resident'], profileComplete: true, createdAt: new Date(0).toISOString() });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('session cache', () => {
  const ctx = testContext();
  const cache = createSessionCache({ redis: ctx.redis, keys: createKeys(ctx.config.REDIS_PREFIX), ttlMs: 100 });
  afterAll(async () => {
    await cache.close();
    await ctx.close();
  });

  it('when a burst of distinct sessions comes and goes, then the cache holds about a TTL of them, not every session seen', async () => {
    const far = Date.now() + 3_600_000;
    for (let i = 1; i <= 1_000; i++) cache.remember(`a${i}`, user(i), far);
    expect(cache.size()).toEqual({ sessions: 1_000, users: 1_000 });
    expect(cache.get('a1')?.id).toBe(1);
    await sleep(150);
    cache.remember('b1', user(5_001), far);
    // the first thousand are past the TTL: they left as the next one came in
    expect(cache.size()).toEqual({ sessions: 1, users: 1 });
    expect(cache.get('a1')).toBeUndefined();
    expect(cache.get('b1')?.id).toBe(5_001);
  });

  it('when a session is remembered again, then it lives a TTL from then; a user change still drops all its sessions', async () => {
    const far = Date.now() + 3_600_000;
    cache.remember('c1', user(7), far);
    cache.remember('c2', user(7), far);
    await sleep(60);
    cache.remember('c1', user(7), far); // renewed: now the newest
    await sleep(60);
    cache.remember('d1', user(8), far); // c2 is 120 ms old: swept; c1 only 60
    expect(cache.get('c2')).toBeUndefined();
    expect(cache.get('c1')?.id).toBe(7);
    await cache.changed({ userId: 7 });
    expect(cache.get('c1')).toBeUndefined();
    expect(cache.size().users).toBe(1);
  });
});
