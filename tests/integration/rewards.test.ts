import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { testServer } from '../helpers/context.ts';
import { createTestUser } from '../helpers/users.ts';
import type { RunningServer } from '../../server/main.ts';
import { createRewardStore } from '../../server/rewards/reward.store.ts';

type S = RunningServer & { url: string };

describe('rewards shop: catalog, atomic redemption, reconciliation', () => {
  let s: S;
  let admin: Awaited<ReturnType<typeof createTestUser>>;
  const post = (path: string, headers: Record<string, string>, body?: unknown) =>
    fetch(`${s.url}${path}`, { method: 'POST', headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const json = async (r: Response) => (await r.json()) as any;
  /** a resident with a balance made of real (idempotent) awards */
  const resident = async (balance: number) => {
    const u = await createTestUser(s.ctx);
    if (balance > 0) await s.ctx.points.award(u.user.id, 'profile', 'profile', balance);
    return u;
  };
  const newReward = async (price: number, stock: number) => {
    const r = await post('/api/rewards', admin.headers, { name: `Theatre ticket ${price}/${stock}`, price, stock });
    expect(r.status).toBe(201);
    return (await json(r)).reward as { id: number };
  };

  beforeAll(async () => {
    s = await testServer();
    admin = await createTestUser(s.ctx, { roles: ['admin'] });
  });
  afterAll(async () => {
    await s.close();
  });

  it('when an admin creates and edits a reward, then the public catalog shows it; residents cannot manage it', async () => {
    const created = await post('/api/rewards', admin.headers, { name: 'Museum pass', description: 'One visit', price: 500, stock: 3 });
    expect(created.status).toBe(201);
    const { reward } = await json(created);
    expect(reward).toMatchObject({ id: expect.any(Number), name: 'Museum pass', price: 500, stock: 3, sold: 0, active: true });
    const patched = await fetch(`${s.url}/api/rewards/${reward.id}`, { method: 'PATCH', headers: admin.headers, body: JSON.stringify({ stock: 7, price: 450 }) });
    expect(patched.status).toBe(200);
    expect((await json(patched)).reward).toMatchObject({ stock: 7, price: 450 });
    const list = await json(await fetch(`${s.url}/api/rewards`));
    expect(list.rewards.find((r: any) => r.id === reward.id)).toMatchObject({ name: 'Museum pass', stock: 7 });

    const bob = await createTestUser(s.ctx);
    const r1 = await post('/api/rewards', bob.headers, { name: 'Free', price: 1, stock: 1 });
    expect(r1.status).toBe(403);
    expect((await json(r1)).error.code).toBe('forbidden');
    const r2 = await post('/api/rewards', { 'content-type': 'application/json' }, { name: 'Free', price: 1, stock: 1 });
    expect(r2.status).toBe(401);
    // an inactive reward disappears from the public catalog and cannot be redeemed
    await fetch(`${s.url}/api/rewards/${reward.id}`, { method: 'PATCH', headers: admin.headers, body: JSON.stringify({ active: false }) });
    expect((await json(await fetch(`${s.url}/api/rewards`))).rewards.some((r: any) => r.id === reward.id)).toBe(false);
    const rich = await resident(1000);
    const r3 = await post(`/api/rewards/${reward.id}/redeem`, rich.headers);
    expect(r3.status).toBe(404);
    expect((await s.ctx.points.mine(rich.user.id, 10)).balance).toBe(1000);
  });

  it('when reward input is malformed, then 400 with details and nothing is written', async () => {
    const before = (await json(await fetch(`${s.url}/api/rewards`))).rewards.length;
    const bad: unknown[] = [
      {},
      { name: 'x', price: 10, stock: 1 },
      { name: 'Ticket', price: -5, stock: 1 },
      { name: 'Ticket', price: 10, stock: 1.5 },
      { name: 'Ticket', price: '10', stock: 1 },
      { name: 'Ticket', price: 10, stock: 1, extra: true },
      [],
    ];
    for (const b of bad) {
      const r = await post('/api/rewards', admin.headers, b);
      expect(r.status, JSON.stringify(b)).toBe(400);
      const body = await json(r);
      expect(body.error.code).toBe('invalid_body');
      expect(Array.isArray(body.error.details)).toBe(true);
    }
    expect((await json(await fetch(`${s.url}/api/rewards`))).rewards.length).toBe(before);
    const { id } = await newReward(10, 1);
    const p = await fetch(`${s.url}/api/rewards/${id}`, { method: 'PATCH', headers: admin.headers, body: JSON.stringify({}) });
    expect(p.status).toBe(400);
    for (const path of ['/api/rewards/abc/redeem', '/api/rewards/0/redeem', '/api/rewards/1e400/redeem']) {
      const r = await post(path, admin.headers);
      expect(r.status, path).toBe(400);
      expect((await json(r)).error.code).toBe('invalid_params');
    }
    expect((await post('/api/rewards/999999/redeem', admin.headers)).status).toBe(404);
  });

  it('when a resident redeems with enough points, then 201 with a code, the balance drops, and it shows in /api/me/redemptions and the ledger', async () => {
    const { id } = await newReward(300, 5);
    const u = await resident(1000);
    const r = await post(`/api/rewards/${id}/redeem`, u.headers);
    expect(r.status).toBe(201);
    const body = await json(r);
    expect(body.balance).toBe(700);
    expect(body.redemption).toMatchObject({ rewardId: id, price: 300, status: 'done', code: expect.stringMatching(/^AC-[A-Z2-9]{4}-[A-Z2-9]{4}$/) });
    const mine = await json(await fetch(`${s.url}/api/me/redemptions`, { headers: u.headers }));
    expect(mine.redemptions).toEqual([body.redemption]);
    const pts = await json(await fetch(`${s.url}/api/me/points`, { headers: u.headers }));
    expect(pts.balance).toBe(700);
    expect(pts.earned).toBe(1000); // spending never lowers the status
    expect(pts.level).toBe('active_citizen');
    expect(pts.ledger[0]).toMatchObject({ delta: -300, reason: 'redeem', ref: body.redemption.id, balance: 700 });
    expect((await s.ctx.rewards.get(id))).toMatchObject({ stock: 4, sold: 1 });
    expect((await fetch(`${s.url}/api/me/redemptions`)).status).toBe(401);
  });

  it('when the balance is short or the stock is gone, then 409 insufficient_points / out_of_stock and nothing changes', async () => {
    const { id } = await newReward(300, 1);
    const poor = await resident(299);
    const r1 = await post(`/api/rewards/${id}/redeem`, poor.headers);
    expect(r1.status).toBe(409);
    expect((await json(r1)).error).toMatchObject({ code: 'insufficient_points', details: { price: 300, balance: 299 } });
    expect((await s.ctx.points.mine(poor.user.id, 10)).balance).toBe(299);
    const rich = await resident(1000);
    expect((await post(`/api/rewards/${id}/redeem`, rich.headers)).status).toBe(201);
    const r2 = await post(`/api/rewards/${id}/redeem`, rich.headers);
    expect(r2.status).toBe(409);
    expect((await json(r2)).error.code).toBe('out_of_stock');
    expect((await s.ctx.points.mine(rich.user.id, 10)).balance).toBe(700);
    expect(await s.ctx.rewards.get(id)).toMatchObject({ stock: 0, sold: 1 });
  });

  it('when 100 redeems of a 10-stock reward race (20 residents × 5, each able to pay for 2), then exactly 10 sell and no balance goes negative', async () => {
    const price = 100;
    const { id } = await newReward(price, 10);
    const users = await Promise.all(Array.from({ length: 20 }, () => resident(2 * price)));
    const t0 = performance.now();
    const replies = await Promise.all(
      users.flatMap((u) => Array.from({ length: 5 }, async () => {
        const r = await post(`/api/rewards/${id}/redeem`, u.headers);
        return { userId: u.user.id, status: r.status, body: await json(r) };
      })),
    );
    const ms = performance.now() - t0;
    const won = replies.filter((r) => r.status === 201);
    const lost = replies.filter((r) => r.status !== 201);
    console.log(`[redeem race] 100 concurrent redeems of a 10-stock reward over HTTP: ${won.length} sold, ${lost.length} refused (${ms.toFixed(0)} ms)`);
    expect(won).toHaveLength(10);
    for (const r of lost) {
      expect(r.status).toBe(409);
      expect(['out_of_stock', 'insufficient_points']).toContain(r.body.error.code);
    }
    expect(new Set(won.map((r) => r.body.redemption.code)).size).toBe(10);
    expect(await s.ctx.rewards.get(id)).toMatchObject({ stock: 0, sold: 10 });
    let spent = 0;
    for (const u of users) {
      const { balance, ledger } = await s.ctx.points.mine(u.user.id, 100);
      const done = (await s.ctx.rewards.mine(u.user.id)).filter((r) => r.status === 'done').length;
      expect(balance).toBeGreaterThanOrEqual(0);
      expect(balance).toBe(2 * price - done * price);
      expect(ledger.every((e) => e.balance >= 0)).toBe(true);
      // every hold is settled: no pending redemption left behind
      expect((await s.ctx.rewards.mine(u.user.id)).some((r) => r.status === 'pending')).toBe(false);
      spent += 2 * price - balance;
    }
    expect(spent).toBe(10 * price);
  });

  it('when one resident fires 20 concurrent redeems with points for one, then exactly one succeeds and the balance never overdraws', async () => {
    const { id } = await newReward(100, 50);
    const u = await resident(150);
    const replies = await Promise.all(Array.from({ length: 20 }, () => post(`/api/rewards/${id}/redeem`, u.headers).then(async (r) => ({ status: r.status, body: await json(r) }))));
    expect(replies.filter((r) => r.status === 201)).toHaveLength(1);
    expect(replies.filter((r) => r.status === 409 && r.body.error.code === 'insufficient_points')).toHaveLength(19);
    expect((await s.ctx.points.mine(u.user.id, 10)).balance).toBe(50);
    expect(await s.ctx.rewards.get(id)).toMatchObject({ stock: 49, sold: 1 });
  });

  it('when a redemption crashed after the debit (no stock step), then reconcile refunds it and a late stock step cannot sell it', async () => {
    const { id } = await newReward(100, 3);
    const u = await resident(100);
    const store = createRewardStore(s.ctx.redis, s.ctx.keys);
    const red = { id: 'crashed-after-hold', rewardId: id, rewardName: 'x', price: 100, status: 'pending' as const, code: null, createdAt: new Date().toISOString() };
    // the first steps of redeem(), then the "process dies"
    await store.markPending(id, u.user.id, red.id, Date.now() - 120_000);
    expect((await store.hold(u.user.id, red)).result).toBe('ok');
    expect((await s.ctx.points.mine(u.user.id, 10)).balance).toBe(0);
    // a second redemption that crashed after the stock step: reconcile completes it (sold stays sold)
    const u2 = await resident(100);
    const red2 = { ...red, id: 'crashed-after-claim' };
    await store.markPending(id, u2.user.id, red2.id, Date.now() - 120_000);
    await store.hold(u2.user.id, red2);
    expect(await store.claim(id, red2.id, 'claim', 100)).toBe('sold');

    const out = await s.ctx.rewards.reconcile(60_000);
    expect(out).toEqual({ sold: 1, refunded: 1, cleared: 0 });
    expect((await s.ctx.points.mine(u.user.id, 10)).balance).toBe(100);
    expect((await store.redemption(u.user.id, red.id))?.status).toBe('refunded');
    expect((await store.redemption(u2.user.id, red2.id))).toMatchObject({ status: 'done', code: expect.stringMatching(/^AC-/) });
    // the crashed process wakes up and runs its stock step: the decision is already "cancelled"
    expect(await store.claim(id, red.id, 'claim', 100)).toBe('cancelled');
    expect(await s.ctx.rewards.get(id)).toMatchObject({ stock: 2, sold: 1 });
    // settling again changes nothing
    expect((await store.settle(u.user.id, red.id, 'refund', '')).status).toBe('refunded');
    expect((await s.ctx.points.mine(u.user.id, 10)).balance).toBe(100);
    expect(await s.ctx.rewards.reconcile(60_000)).toEqual({ sold: 0, refunded: 0, cleared: 0 });
  });

  it('when a cookie-carrying redeem comes from a foreign origin, then 403 and nothing is spent', async () => {
    const { id } = await newReward(10, 1);
    const u = await resident(100);
    const r = await post(`/api/rewards/${id}/redeem`, { ...u.headers, origin: 'https://evil.example' });
    expect(r.status).toBe(403);
    expect((await s.ctx.points.mine(u.user.id, 10)).balance).toBe(100);
  });
});
