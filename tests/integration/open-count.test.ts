import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { createHash } from 'node:crypto';
import { Redis } from 'ioredis';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testServer, TEST_ORIGIN } from '../helpers/context.ts';
import { createTestUser } from '../helpers/users.ts';
import { publishedPoll } from '../helpers/polls.ts';
import { until } from '../helpers/processes.ts';
import { finalisePoll } from '../../server/polls/lifecycle.jobs.ts';
import { testLogger } from '../helpers/context.ts';
import { ballotIds, ledgerTag, legacyVoterHash } from '../../server/ballots/ballot-ids.ts';
import { createBallotStore } from '../../server/ballots/ballot.store.ts';
import { ledgerDir } from '../../server/integrity/ledger-export.ts';
import { parseCsv } from '../../server/archive/results-csv.ts';
import { pollIntegrityReportSchema } from '../../shared/integrity.ts';
import { representativenessSchema } from '../../shared/representativeness.ts';
import type { RunningServer } from '../../server/main.ts';
import type { User } from '../../shared/users.ts';
import type { PollResults } from '../../shared/polls.ts';

const VOTERS = 10_000;
const SECRET = 'test-secret-0123456789abcdef';
const DISTRICTS = ['arbat', 'tverskoy', 'marfino', 'kuntsevo', 'kurkino'];
const year = new Date().getUTCFullYear();

const ballotOf = (i: number): Record<string, string[]> => ({ q1: [`o${(i % 3) + 1}`], q2: i % 2 ? ['o1', `o${(i % 3) + 2}`] : [`o${(i % 4) + 1}`], ...(i % 5 === 0 ? { q3: [i % 10 === 0 ? 'yes' : 'no'] } : {}) });
const synthetic = (id: number, i: number): User => ({
  id,
  phone: `+7000${id}`,
  name: null,
  district: DISTRICTS[i % DISTRICTS.length],
  birthYear: year - 20 - (i % 50),
  gender: i % 3 ? 'female' : 'male',
  roles: ['resident'],
  profileComplete: true,
  createdAt: new Date().toISOString(),
});

/** Tallies recounted from ledger rows: the same shape as the results' questions. */
function recount(rows: { answers: Record<string, string[]> }[], like: PollResults): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {};
  for (const q of like.questions) out[q.id] = Object.fromEntries(q.options.map((o) => [o.id, 0]));
  for (const r of rows) for (const [q, os] of Object.entries(r.answers)) for (const o of os) out[q][o]++;
  return out;
}
const published = (r: PollResults) => Object.fromEntries(r.questions.map((q) => [q.id, Object.fromEntries(q.options.map((o) => [o.id, o.count]))]));
const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

/** Spearman's rank correlation of two permutations of 0..n-1 given as positions. */
function spearman(a: number[], b: number[]): number {
  const n = a.length;
  let d2 = 0;
  for (let i = 0; i < n; i++) d2 += (a[i] - b[i]) ** 2;
  return 1 - (6 * d2) / (n * (n * n - 1));
}

describe('open count: refusal counters, the published ledger, representativeness', () => {
  let s: RunningServer & { url: string };
  let mod: User;
  let modHeaders: Record<string, string>;
  const dataDir = mkdtempSync(join(tmpdir(), 'ac-open-count-'));
  beforeAll(async () => {
    s = await testServer({ DATA_DIR: dataDir, APP_SECRET: SECRET });
    ({ user: mod, headers: modHeaders } = await createTestUser(s.ctx, { roles: ['moderator'] }));
  });
  afterAll(async () => {
    await s?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('when ballots are refused as duplicate, invalid (on the route before Express and on the Express route), early and late, then the integrity report counts each — and an accepted ballot costs one EVALSHA, a refused invalid one no Redis call', async () => {
    const poll = await publishedPoll(s.ctx, mod, { points: 0 });
    const v = await createTestUser(s.ctx);
    const post = (body: unknown) => fetch(`${s.url}/api/polls/${poll.id}/ballots`, { method: 'POST', headers: v.headers, body: JSON.stringify(body) });
    await s.ctx.polls.get(poll.id); // the definition cache is warm, as on a busy server

    // every command this process sends while one valid and one invalid ballot are cast (MONITOR), up to a marker
    // (only this service's command connection; the periodic flush of invalid counts runs off the request path)
    const warm = await createTestUser(s.ctx);
    await s.ctx.ballots.cast(poll.id, (await s.ctx.users.get(warm.user.id))!, { answers: { q1: ['o1'], q2: ['o2'] } }); // script loaded
    const user = (await s.ctx.users.get(v.user.id))!;
    const addr = /addr=(\S+)/.exec((await s.ctx.redis.client('INFO')) as string)![1];
    const mon = await new Redis(s.ctx.config.REDIS_URL!).monitor();
    const seen: string[] = [];
    const marker = `${s.ctx.keys.prefix}marker`;
    mon.on('monitor', (_t: string, args: string[], source: string) => {
      if (source !== addr || args.includes('r:invalid')) return;
      seen.push(args.includes(marker) ? 'marker' : args[0].toLowerCase());
    });
    await s.ctx.ballots.cast(poll.id, user, { answers: { q1: ['o1'], q2: ['o2'] } });
    await expect(s.ctx.ballots.cast(poll.id, user, { answers: { q1: ['nope'] } })).rejects.toMatchObject({ code: 'invalid_ballot' });
    await s.ctx.redis.exists(marker);
    await until(() => seen.includes('marker'), 5_000, 20);
    mon.disconnect();
    expect(seen).toEqual(['evalsha', 'marker']);

    expect((await post({ answers: { q1: ['o1'], q2: ['o2'] } })).status).toBe(409); // duplicate
    expect((await post({ answers: { q1: ['o9'] } })).status).toBe(400); // invalid (second one)
    expect((await post({ answers: 'nope' })).status).toBe(400); // invalid (third one)
    // a query string leaves the request to the Express route (server/ballots/ballot.http.ts takes only the plain
    // shape): it reaches the same ballot service, so it is counted alike
    const viaExpress = await fetch(`${s.url}/api/polls/${poll.id}/ballots?via=express`, { method: 'POST', headers: v.headers, body: JSON.stringify({ answers: { q1: ['o9'] } }) });
    expect(viaExpress.status).toBe(400); // invalid (fourth one)
    const early = await publishedPoll(s.ctx, mod, { points: 0, opensAt: new Date(Date.now() + 3_600_000).toISOString(), closesAt: new Date(Date.now() + 7_200_000).toISOString() });
    expect((await fetch(`${s.url}/api/polls/${early.id}/ballots`, { method: 'POST', headers: v.headers, body: JSON.stringify({ answers: { q1: ['o1'], q2: ['o2'] } }) })).status).toBe(409);
    await s.ctx.polls.close(poll.id);
    const late = await createTestUser(s.ctx);
    expect((await fetch(`${s.url}/api/polls/${poll.id}/ballots`, { method: 'POST', headers: late.headers, body: JSON.stringify({ answers: { q1: ['o1'], q2: ['o2'] } }) })).status).toBe(409);

    // invalid refusals reach Redis with the next periodic flush
    const report = await until(async () => {
      const r = pollIntegrityReportSchema.parse(await (await fetch(`${s.url}/api/polls/${poll.id}/integrity`, { headers: modHeaders })).json());
      return r.refused.invalid === 4 ? r : null;
    }, 10_000, 100);
    expect(report.refused).toEqual({ duplicate: 1, late: 1, early: 0, invalid: 4 });
    expect(report).toMatchObject({ ballots: 2, live: true, check: { source: 'live', ok: true, ballots: 2, ledgerLength: 2, votersMarked: 2 } });
    expect(report.perMinute.reduce((x, m) => x + m.ballots, 0)).toBe(2);
    const earlyReport = await (await fetch(`${s.url}/api/polls/${early.id}/integrity`, { headers: modHeaders })).json();
    expect(earlyReport.refused.early).toBe(1);
  });

  it('when a poll is open, then its integrity page and panel are staff-only (403 to the public), and public once it has closed', async () => {
    const poll = await publishedPoll(s.ctx, mod, { points: 0 });
    const resident = await createTestUser(s.ctx);
    const official = await createTestUser(s.ctx, { roles: ['official'] });
    for (const path of ['integrity', 'representativeness']) {
      expect((await fetch(`${s.url}/api/polls/${poll.id}/${path}`)).status).toBe(403);
      expect((await fetch(`${s.url}/api/polls/${poll.id}/${path}`, { headers: resident.headers })).status).toBe(403);
      expect((await fetch(`${s.url}/api/polls/${poll.id}/${path}`, { headers: official.headers })).status).toBe(200);
      expect((await fetch(`${s.url}/api/polls/${poll.id}/${path}`, { headers: modHeaders })).status).toBe(200);
    }
    expect((await fetch(`${s.url}/api/polls/${poll.id}/ledger.jsonl`)).status).toBe(403);
    await s.ctx.polls.close(poll.id);
    for (const path of ['integrity', 'representativeness']) expect((await fetch(`${s.url}/api/polls/${poll.id}/${path}`)).status).toBe(200);
    const early = await fetch(`${s.url}/api/polls/${poll.id}/ledger.jsonl`);
    expect(early.status).toBe(409);
    expect((await early.json()).error.code).toBe('invalid_state');
    expect((await fetch(`${s.url}/api/polls/999999/integrity`)).status).toBe(404);
    expect((await fetch(`${s.url}/api/polls/abc/integrity`)).status).toBe(400);
  });

  describe(`the published ledger of ${VOTERS.toLocaleString('en')} ballots`, () => {
    let pollId: number;
    let results: PollResults;
    let jsonl: Buffer;
    let rows: { tag: string; answers: Record<string, string[]> }[];
    const ids = Array.from({ length: VOTERS }, (_, i) => 500_000 + i);
    beforeAll(async () => {
      const poll = await publishedPoll(s.ctx, mod, { points: 0, shards: 2 });
      pollId = poll.id;
      let next = 0;
      await Promise.all(
        Array.from({ length: 100 }, async () => {
          for (let i = next++; i < VOTERS; i = next++) await s.ctx.ballots.cast(pollId, synthetic(ids[i], i), { answers: ballotOf(i) });
        }),
      );
      await s.ctx.polls.close(pollId);
      const { final } = await finalisePoll(s.ctx, pollId, testLogger);
      results = final.results;
      const r = await fetch(`${s.url}/api/polls/${pollId}/ledger.jsonl`);
      expect(r.status).toBe(200);
      expect(r.headers.get('access-control-allow-origin')).toBe('*');
      jsonl = Buffer.from(await r.arrayBuffer());
      rows = jsonl.toString('utf8').trimEnd().split('\n').map((l) => JSON.parse(l));
    }, 180_000);

    it('when the export is recounted, then its tallies equal the results, its hash is the one in results.json and on the integrity page, and the CSV says the same', async () => {
      expect(rows).toHaveLength(VOTERS);
      expect(recount(rows, results)).toEqual(published(results));
      const snapshot = await (await fetch(`${s.url}/api/polls/${pollId}/results.json`)).json();
      expect(snapshot.ledger.jsonl.sha256).toBe(sha256(jsonl));
      expect(snapshot.ledger.rows).toBe(VOTERS);
      const report = pollIntegrityReportSchema.parse(await (await fetch(`${s.url}/api/polls/${pollId}/integrity`)).json());
      expect(report).toMatchObject({ live: false, ledger: snapshot.ledger, check: { source: 'finalise', ok: true, ballots: VOTERS } });
      // rows carry the tag and the answers, nothing else
      for (const r of rows.slice(0, 100)) expect(Object.keys(r)).toEqual(['tag', 'answers']);
      const csv = Buffer.from(await (await fetch(`${s.url}/api/polls/${pollId}/ledger.csv`)).arrayBuffer());
      expect(sha256(csv)).toBe(snapshot.ledger.csv.sha256);
      const table = parseCsv(csv.toString('utf8'));
      expect(table[0]).toEqual(['tag', 'q1', 'q2', 'q3']);
      const fromCsv = table.slice(1).map(([tag, ...qs]) => ({ tag, answers: Object.fromEntries(['q1', 'q2', 'q3'].map((q, i) => [q, qs[i] ? qs[i].split(';') : []])) }));
      expect(recount(fromCsv, results)).toEqual(published(results));
      const csvText = (await (await fetch(`${s.url}/api/polls/${pollId}/results.csv`)).text()).split('\r\n');
      expect(csvText).toContain(`${pollId},ledger_sha256,,,,,jsonl,${snapshot.ledger.jsonl.sha256}`);
    });

    it('when one row of the export is tampered with, then its hash no longer matches and the recount disagrees with the results', () => {
      const text = jsonl.toString('utf8');
      const i = rows.findIndex((r) => r.answers.q1[0] === 'o1');
      const lines = text.split('\n');
      lines[i] = lines[i].replace('"q1":["o1"]', '"q1":["o2"]');
      const forged = lines.join('\n');
      expect(sha256(forged)).not.toBe(sha256(jsonl));
      const forgedRows = forged.trimEnd().split('\n').map((l) => JSON.parse(l));
      expect(recount(forgedRows, results)).not.toEqual(published(results));
    });

    it('when a voter looks up SHA-256 of their receipt, then exactly one row is theirs and it holds their answers, as counted', () => {
      const byTag = new Map<string, number>();
      for (const r of rows) byTag.set(r.tag, (byTag.get(r.tag) ?? 0) + 1);
      expect(byTag.size).toBe(VOTERS);
      for (const i of [0, 1, 17, 4242, VOTERS - 1]) {
        const tag = ledgerTag(ballotIds(SECRET, pollId, ids[i]).receipt);
        const mine = rows.filter((r) => r.tag === tag);
        expect(mine).toHaveLength(1);
        expect(mine[0].answers).toEqual(ballotOf(i));
      }
    });

    it('when the export order is set against the voting order, then the rank correlation is near 0 (|rho| < 0.05 over 10k ballots)', async () => {
      // voting order: each shard's ledger stream is in cast order; merge the shards by stream id (ms-seq)
      const cast: { id: string; v: string }[] = [];
      for (let k = 0; k < 2; k++) for (const [id, f] of await s.ctx.redis.xrange(s.ctx.keys.pollLedger(pollId, k), '-', '+')) cast.push({ id, v: f[1] });
      const key = (id: string) => id.split('-').map(Number);
      cast.sort((a, b) => key(a.id)[0] - key(b.id)[0] || key(a.id)[1] - key(b.id)[1]);
      const voted = new Map(cast.map((c, i) => [c.v, i]));
      const rho = spearman(rows.map((r) => voted.get(r.tag)!), rows.map((_, i) => i));
      console.log(`[open count] export order vs voting order over ${VOTERS} ballots: Spearman rho = ${rho.toFixed(4)}`);
      expect(Math.abs(rho)).toBeLessThan(0.05);
    });

    it('when finalisation runs again, then the export is not rewritten: the same record and the same bytes', async () => {
      const before = await s.ctx.openCount.finaliseExtras(pollId, testLogger);
      const again = Buffer.from(await (await fetch(`${s.url}/api/polls/${pollId}/ledger.jsonl`)).arrayBuffer());
      expect(before.ledger!.jsonl.sha256).toBe(sha256(jsonl));
      expect(again.equals(jsonl)).toBe(true);
    });
  });

  it('when a ledger holds entries written before `v` became the receipt\'s tag, then the export maps them through the voter bitmap and every voter still finds their row', async () => {
    const poll = await publishedPoll(s.ctx, mod, { points: 0 });
    const store = createBallotStore(s.ctx.redis, s.ctx.keys);
    const ids = [900_001, 900_002, 900_003];
    for (const [i, id] of ids.entries()) {
      const { receipt, voterHash } = ballotIds(SECRET, poll.id, id);
      // the first two as an older server wrote them: v = 32 hex digits of a keyed HMAC
      const v = i < 2 ? legacyVoterHash(SECRET, poll.id, id) : voterHash;
      const out = await store.cast(poll.id, 1, id, { receipt, voterHash: v, answersJson: JSON.stringify({ q1: ['o2'], q2: ['o1'] }), district: 'arbat', ageBand: '25-34', tallyFields: ['a:q1', 'o:q1:o2', 'a:q2', 'o:q2:o1'], awardPoints: false });
      expect(out.kind).toBe('ok');
    }
    await s.ctx.polls.close(poll.id);
    const { ledger } = await s.ctx.openCount.finaliseExtras(poll.id, testLogger);
    expect(ledger!.rows).toBe(3);
    const text = readFileSync(join(ledgerDir(dataDir, s.ctx.keys.prefix, poll.id), `${ledger!.jsonl.sha256}.jsonl`), 'utf8');
    const tags = text.trimEnd().split('\n').map((l) => (JSON.parse(l) as { tag: string }).tag).sort();
    expect(tags).toEqual(ids.map((id) => ledgerTag(ballotIds(SECRET, poll.id, id).receipt)).sort());
  });

  it('when residents fill and change their profiles, then the eligible base follows; the panel shows turnout per group, merges small groups, and raking shifts the over-represented okrug\'s choice down', async () => {
    const popDir = mkdtempSync(join(tmpdir(), 'ac-pop-'));
    // official figures: CAO (arbat) and SAO (marfino) equally populous
    const pop = ['district,age_band,gender,count', 'arbat,25-34,female,1000', 'arbat,25-34,male,1000', 'marfino,25-34,female,1000', 'marfino,25-34,male,1000'].join('\n');
    writeFileSync(join(popDir, 'pop.csv'), pop);
    const p2 = await testServer({ DATA_DIR: dataDir, APP_SECRET: SECRET, POPULATION_FILE: join(popDir, 'pop.csv') });
    try {
      const m = (await createTestUser(p2.ctx, { roles: ['moderator'] })).user;
      const mk = async (i: number, district: string, gender: 'female' | 'male') => {
        const u = await createTestUser(p2.ctx, { profile: null });
        return (await p2.ctx.accounts.updateProfile(u.user.id, { district, birthYear: year - 30, gender })).user;
      };
      // 30 in Arbat (CAO), 10 in Marfino (SVAO), 3 in Kurkino (SZAO: under the threshold); Arbat prefers o1, Marfino o2
      const people: { u: User; choice: string }[] = [];
      for (let i = 0; i < 30; i++) people.push({ u: await mk(i, 'arbat', i % 2 ? 'female' : 'male'), choice: 'o1' });
      for (let i = 0; i < 10; i++) people.push({ u: await mk(i, 'marfino', i % 2 ? 'female' : 'male'), choice: 'o2' });
      for (let i = 0; i < 3; i++) people.push({ u: await mk(i, 'kurkino', 'female'), choice: 'o3' });
      const cells = await p2.ctx.residents.all();
      expect(cells[`arbat|${year - 30}|female`]).toBe(15);
      // a profile change moves its count
      const mover = await createTestUser(p2.ctx, { profile: null });
      await p2.ctx.accounts.updateProfile(mover.user.id, { district: 'arbat', birthYear: year - 30, gender: 'female' });
      expect((await p2.ctx.residents.all())[`arbat|${year - 30}|female`]).toBe(16);
      await fetch(`${p2.url}/api/me`, { method: 'PATCH', headers: mover.headers, body: JSON.stringify({ district: 'marfino' }) });
      const after = await p2.ctx.residents.all();
      expect(after[`arbat|${year - 30}|female`]).toBe(15);
      expect(after[`marfino|${year - 30}|female`]).toBe(6);

      const poll = await publishedPoll(p2.ctx, m, { points: 0 });
      for (const { u, choice } of people) await p2.ctx.ballots.cast(poll.id, u, { answers: { q1: [choice], q2: ['o1'] } });
      await p2.ctx.polls.close(poll.id);
      const panel = representativenessSchema.parse(await (await fetch(`${p2.url}/api/polls/${poll.id}/representativeness`, { headers: { origin: TEST_ORIGIN } })).json());
      expect(panel).toMatchObject({ voters: 43, incomplete: 0 });
      const okrugs = Object.fromEntries(panel.turnout.okrug.map((g) => [g.key, g]));
      expect(okrugs.cao).toMatchObject({ voters: 30, eligible: 30, turnout: 1, population: 2000 });
      // SZAO's 3 voters cannot stand alone, and "other" of 3 would still be small: SVAO, the smallest group
      // standing, folds in with them (no small group can be recovered by subtraction)
      expect(panel.turnout.okrug.map((g) => g.key)).toEqual(['cao', 'other']);
      expect(okrugs.other).toMatchObject({ voters: 13, eligible: 14, population: 2000 });
      for (const margin of Object.values(panel.turnout)) for (const g of margin) expect(g.voters).toBeGreaterThanOrEqual(panel.minGroup);
      // raking to the official 50/50 split (CAO against the rest): CAO's o1 loses weight, Marfino's o2 gains
      expect(panel.weighting).toMatchObject({ targets: 'population', converged: true });
      expect(panel.weighting!.tooSmall).toEqual(expect.arrayContaining([{ margin: 'okrug', keys: ['svao', 'szao'] }]));
      const q1 = panel.questions.find((q) => q.id === 'q1')!;
      const share = (o: string, w: boolean) => {
        const x = q1.options.find((y) => y.id === o)!;
        return w ? x.weighted / q1.weightedAnswered : x.raw / q1.answered;
      };
      expect(share('o1', false)).toBeCloseTo(30 / 43, 6);
      expect(share('o1', true)).toBeLessThan(share('o1', false));
      expect(share('o2', true)).toBeGreaterThan(share('o2', false));
      expect(q1.options.reduce((x, o) => x + o.weighted, 0)).toBeCloseTo(43, 6);
    } finally {
      await p2.close();
      rmSync(popDir, { recursive: true, force: true });
    }
  });
});
