import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { testContext } from '../helpers/context.ts';
import type { AppContext } from '../../server/context.ts';

describe('inbox store (notify-user Lua)', () => {
  let ctx: AppContext;
  beforeAll(() => {
    ctx = testContext();
  });
  afterAll(async () => {
    await ctx.close();
  });
  const item = (i: number) => ({ id: `d${i}.1`, kind: 'decision.decided' as const, title: `t${i}`, body: 'b', pollId: i, createdAt: new Date(1_700_000_000_000 + i).toISOString() });

  it('when the inbox overflows its cap, then the oldest items leave the list and the unread set together, and a dropped id is still never delivered again', async () => {
    const user = 4242;
    for (let i = 1; i <= 8; i++) expect(await ctx.notificationStore.deliver([user], item(i), 5)).toEqual([{ userId: user, unread: Math.min(i, 5) }]);
    const { items, total, unread } = await ctx.notificationStore.list(user, 0, 100);
    expect([total, unread]).toEqual([5, 5]);
    expect(items.map((x) => x.id)).toEqual(['d8.1', 'd7.1', 'd6.1', 'd5.1', 'd4.1']);
    expect(await ctx.notificationStore.deliver([user], item(1), 5)).toEqual([]);
    expect(await ctx.notificationStore.markRead(user, ['d8.1', 'd1.1'])).toBe(4);
  });

  it('when many users get the same item in one pipeline, including repeats in the batch, then each holds it once', async () => {
    const users = [1, 2, 3, 2, 1];
    const fresh = await ctx.notificationStore.deliver(users, item(99));
    expect(fresh.map((f) => f.userId)).toEqual([1, 2, 3]);
    expect(await ctx.notificationStore.inboxCounts([1, 2, 3], 'd99.1')).toEqual([1, 1, 1]);
  });
});
