import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { testServer, TEST_ORIGIN } from '../helpers/context.ts';
import { createTestUser } from '../helpers/users.ts';
import { publishedPoll } from '../helpers/polls.ts';
import { SESSION_COOKIE } from '../../server/auth/auth.middleware.ts';
import type { RunningServer } from '../../server/main.ts';
import type { User } from '../../shared/users.ts';

const VOTERS = 10_000;
const HTTP_SAMPLE = 300;
const DISTRICTS = ['arbat', 'tverskoy', 'presnensky', 'basmanny', 'khamovniki'];

/** Run `fn` over items with at most `n` in flight. */
async function pool<T>(items: T[], n: number, fn: (x: T, i: number) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: n }, async () => {
      while (next < items.length) {
        const i = next++;
        await fn(items[i], i);
      }
    }),
  );
}

/** A deterministic, varied ballot per voter: q1 single, q2 multi (1–2 choices), q3 optional. */
function ballotOf(i: number): Record<string, string[]> {
  const a: Record<string, string[]> = { q1: [`o${(i % 3) + 1}`], q2: i % 2 ? ['o1', `o${(i % 3) + 2}`] : [`o${(i % 4) + 1}`] };
  if (i % 5 === 0) a.q3 = [i % 10 === 0 ? 'yes' : 'no'];
  return a;
}

describe('ballots at scale: 10k distinct voters', () => {
  let s: RunningServer & { url: string };
  let mod: User;
  let voters: User[];
  let cookies: string[];
  beforeAll(async () => {
    s = await testServer();
    mod = (await createTestUser(s.ctx, { roles: ['moderator'] })).user;
    // voters made directly through the user store (no OTP round trip), with varied profiles
    voters = new Array(VOTERS);
    const year = new Date().getUTCFullYear();
    await pool(Array.from({ length: VOTERS }, (_, i) => i), 200, async (i) => {
      const { user } = await s.ctx.users.getOrCreateByPhone(`+7955${String(i).padStart(7, '0')}`);
      voters[i] = (await s.ctx.users.updateProfile(user.id, { name: 'V', district: DISTRICTS[i % DISTRICTS.length], birthYear: year - 18 - (i % 60), gender: 'female' }))!;
    });
    cookies = await Promise.all(voters.slice(0, HTTP_SAMPLE).map(async (u) => `${SESSION_COOKIE}=${(await s.ctx.sessions.create(u.id)).id}`));
  }, 120_000);
  afterAll(async () => {
    await s?.close();
  });

  for (const shards of [1, 4]) {
    it(`when 10k distinct voters cast on a poll with S=${shards}, then tally sums == voters marked == ledger length == 10k and every count is exact`, async () => {
      const poll = await publishedPoll(s.ctx, mod, { shards, points: 0 });
      const t0 = performance.now();
      // a sample through HTTP (each also retried once: 409 with its receipt), the rest through the service
      await pool(voters.slice(0, HTTP_SAMPLE), 32, async (u, i) => {
        const headers = { cookie: cookies[i], origin: TEST_ORIGIN, 'content-type': 'application/json' };
        const body = JSON.stringify({ answers: ballotOf(i) });
        const r = await fetch(`${s.url}/api/polls/${poll.id}/ballots`, { method: 'POST', headers, body });
        expect(r.status).toBe(201);
        const { receipt } = (await r.json()) as any;
        const again = await fetch(`${s.url}/api/polls/${poll.id}/ballots`, { method: 'POST', headers, body });
        expect(again.status).toBe(409);
        expect(((await again.json()) as any).error.details.receipt).toBe(receipt);
      });
      const tHttp = performance.now();
      await pool(voters.slice(HTTP_SAMPLE), 256, async (u, j) => {
        await s.ctx.ballots.cast(poll.id, u, { answers: ballotOf(HTTP_SAMPLE + j) });
      });
      const tEnd = performance.now();
      console.info(
        `[ballots-scale S=${shards}] ${HTTP_SAMPLE} HTTP casts+retries in ${(tHttp - t0).toFixed(0)} ms; ` +
          `${VOTERS - HTTP_SAMPLE} service casts in ${(tEnd - tHttp).toFixed(0)} ms (${(((VOTERS - HTTP_SAMPLE) / (tEnd - tHttp)) * 1000).toFixed(0)}/s)`,
      );

      const integrity = await s.ctx.ballots.integrity(poll.id);
      expect(integrity).toMatchObject({ votersMarked: VOTERS, ledgerLength: VOTERS, ballots: VOTERS, ok: true, problems: [] });

      // every count exact against what was sent
      const expected: Record<string, number> = {};
      for (let i = 0; i < VOTERS; i++) for (const [q, os] of Object.entries(ballotOf(i))) for (const o of os) expected[`${q}:${o}`] = (expected[`${q}:${o}`] ?? 0) + 1;
      const results = await s.ctx.ballots.results(poll.id);
      const got: Record<string, number> = {};
      for (const q of results.questions) for (const o of q.options) if (o.count) got[`${q.id}:${o.id}`] = o.count;
      expect(got).toEqual(expected);
      expect(results.questions[0].options.reduce((a, o) => a + o.count, 0)).toBe(VOTERS);
      expect(integrity.perQuestion).toEqual({ q1: VOTERS, q2: VOTERS, q3: VOTERS / 5 });
      expect(results.breakdown.district).toEqual(DISTRICTS.map((d) => ({ key: d, ballots: VOTERS / DISTRICTS.length })).sort((a, b) => a.key.localeCompare(b.key)));
      expect(results.breakdown.ageBand.reduce((a, g) => a + g.ballots, 0)).toBe(VOTERS);
      expect(await s.ctx.ballots.tallyVersions([poll.id])).toEqual([VOTERS]);

      // every shard holds its own share, and the bitmap walk gives back exactly the voters
      const perShard = await Promise.all(Array.from({ length: shards }, (_, k) => s.ctx.redis.bitcount(s.ctx.keys.pollVoters(poll.id, k))));
      expect(perShard.reduce((a, b) => a + b, 0)).toBe(VOTERS);
      if (shards > 1) for (const n of perShard) expect(n).toBeGreaterThan(VOTERS / shards / 2);
      const walked: number[] = [];
      for await (const chunk of s.ctx.ballots.voterIds(poll.id, 4096)) walked.push(...chunk);
      expect(walked.length).toBe(VOTERS);
      expect(new Set(walked)).toEqual(new Set(voters.map((u) => u.id)));
    }, 120_000);
  }
});
