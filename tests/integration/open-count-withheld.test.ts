import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testServer, testLogger, TEST_ORIGIN } from '../helpers/context.ts';
import { createTestUser } from '../helpers/users.ts';
import { publishedPoll } from '../helpers/polls.ts';
import { finalisePoll } from '../../server/polls/lifecycle.jobs.ts';
import { ledgerDir } from '../../server/integrity/ledger-export.ts';
import { parseCsv } from '../../server/archive/results-csv.ts';
import { pollIntegrityReportSchema } from '../../shared/integrity.ts';
import { representativenessSchema, type Representativeness } from '../../shared/representativeness.ts';
import { errorBodySchema } from '../../shared/errors.ts';
import { pollFinalSchema, pollResultsSchema, type PollResults } from '../../shared/polls.ts';
import type { RunningServer } from '../../server/main.ts';
import type { User } from '../../shared/users.ts';

// What the open count withholds: the per-question figures of the representativeness panel while one side of
// its split (complete profiles / incomplete ones) is a small group — the public results minus the panel
// would be that side's votes — and the whole ledger of a poll published with `publicLedger: false`.
const MIN_GROUP = 3;
const anon = { origin: TEST_ORIGIN };

/** The differencing attack: per option, the results minus the panel's raw count — the incomplete profiles' votes. */
function incompleteVotes(results: PollResults, panel: Representativeness): Record<string, number> {
  const out: Record<string, number> = {};
  for (const q of panel.questions) {
    const counted = results.questions.find((r) => r.id === q.id)!;
    for (const o of q.options) out[`${q.id}/${o.id}`] = counted.options.find((x) => x.id === o.id)!.count - o.raw;
  }
  return out;
}

/** Every file under a directory, sorted. */
const filesUnder = (dir: string): string[] =>
  existsSync(dir) ? readdirSync(dir, { recursive: true, withFileTypes: true }).filter((d) => d.isFile()).map((d) => join(d.parentPath, d.name)).sort() : [];

describe(`open count: what it withholds (RESULTS_MIN_GROUP_SIZE ${MIN_GROUP})`, () => {
  let s: RunningServer & { url: string };
  let mod: User;
  let modHeaders: Record<string, string>;
  const dataDir = mkdtempSync(join(tmpdir(), 'ac-open-count-withheld-'));
  beforeAll(async () => {
    s = await testServer({ DATA_DIR: dataDir, RESULTS_MIN_GROUP_SIZE: String(MIN_GROUP) });
    ({ user: mod, headers: modHeaders } = await createTestUser(s.ctx, { roles: ['moderator'] }));
  });
  afterAll(async () => {
    await s?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  // profiles filled through the account service, as PATCH /api/me does: the eligible base (the raking's targets) follows
  const complete = async (i: number) => {
    const { user } = await createTestUser(s.ctx, { profile: null });
    return (await s.ctx.accounts.updateProfile(user.id, { district: i % 2 ? 'arbat' : 'marfino', birthYear: 1980 + (i % 3) * 10, gender: i % 2 ? 'female' : 'male' })).user;
  };
  // no profile at all, or one without a gender: neither is described by a cell
  const incomplete = async (i: number) => {
    const { user } = await createTestUser(s.ctx, { profile: null });
    return i % 2 ? user : (await s.ctx.accounts.updateProfile(user.id, { district: 'arbat', birthYear: 1990 })).user;
  };
  const vote = async (pollId: number, who: Promise<User>, q1: string) => s.ctx.ballots.cast(pollId, await who, { answers: { q1: [q1], q2: ['o1'] } });
  const get = async <T>(path: string, headers: Record<string, string>, parse: (v: unknown) => T): Promise<T> => {
    const r = await fetch(`${s.url}/api${path}`, { headers });
    expect(r.status, path).toBe(200);
    return parse(await r.json());
  };
  const panelOf = (pollId: number, headers = modHeaders) => get(`/polls/${pollId}/representativeness`, headers, (v) => representativenessSchema.parse(v));
  const resultsOf = (pollId: number) => get(`/polls/${pollId}/results`, modHeaders, (v) => pollResultsSchema.parse(v));

  it('when 1 or 2 voters of a city-wide poll have incomplete profiles, then the panel withholds its per-question figures (staff live, public once closed, the frozen snapshot, results.csv); from 3 on it shows them', async () => {
    const poll = await publishedPoll(s.ctx, mod, { points: 0 });
    // six complete profiles: four for North, two for South
    for (let i = 0; i < 6; i++) await vote(poll.id, complete(i), i < 4 ? 'o1' : 'o2');
    // one incomplete profile votes East: results minus the panel would say so
    await vote(poll.id, incomplete(1), 'o3');
    for (const n of [1, 2]) {
      if (n === 2) await vote(poll.id, incomplete(2), 'o3');
      const panel = await panelOf(poll.id);
      expect(incompleteVotes(await resultsOf(poll.id), panel)).toEqual({});
      expect(panel).toMatchObject({ voters: 6, incomplete: n, withheld: { reason: 'incomplete_below_min_group', minGroup: MIN_GROUP }, questions: [] });
      expect(panel.weighting).not.toBeNull(); // the weighting's own figures (who voted, not how) stay
    }
    // the third: a group at the threshold, whose split may show (as any breakdown group of 3 would)
    await vote(poll.id, incomplete(3), 'o2');
    const shown = await panelOf(poll.id);
    expect(shown).toMatchObject({ voters: 6, incomplete: 3, withheld: null });
    expect(incompleteVotes(await resultsOf(poll.id), shown)).toMatchObject({ 'q1/o1': 0, 'q1/o2': 1, 'q1/o3': 2 });
    await s.ctx.polls.close(poll.id);
    expect((await panelOf(poll.id, anon)).questions.map((q) => q.id)).toEqual(['q1', 'q2', 'q3']);
    await finalisePoll(s.ctx, poll.id, testLogger);
    const csv = parseCsv(await (await fetch(`${s.url}/api/polls/${poll.id}/results.csv`)).text());
    expect(csv.filter((r) => r[1] === 'weighted_option').length).toBeGreaterThan(0);
  });

  it('when a closed poll has 1 incomplete profile among its voters, then neither the public panel, results.json nor results.csv lets its vote be recovered; the integrity page still shows', async () => {
    const poll = await publishedPoll(s.ctx, mod, { points: 0 });
    for (let i = 0; i < 5; i++) await vote(poll.id, complete(i), 'o1');
    await vote(poll.id, incomplete(1), 'o3');
    await s.ctx.polls.close(poll.id);
    const live = await panelOf(poll.id, anon);
    expect(live).toMatchObject({ voters: 5, incomplete: 1, withheld: { reason: 'incomplete_below_min_group' }, questions: [] });
    // the turnout tables (who voted, not how) stay
    expect(live.turnout.okrug.reduce((n, g) => n + g.voters, 0)).toBe(5);

    await finalisePoll(s.ctx, poll.id, testLogger);
    const frozen = await panelOf(poll.id, anon);
    expect(frozen.withheld).toEqual({ reason: 'incomplete_below_min_group', minGroup: MIN_GROUP });
    const snapshot = await get(`/polls/${poll.id}/results.json`, anon, (v) => pollFinalSchema.parse(v));
    expect(snapshot.representativeness).toMatchObject({ withheld: { reason: 'incomplete_below_min_group' }, questions: [] });
    expect(incompleteVotes(snapshot.results, snapshot.representativeness!)).toEqual({});
    const csv = parseCsv(await (await fetch(`${s.url}/api/polls/${poll.id}/results.csv`)).text());
    expect(csv.filter((r) => r[1] === 'weighted_option')).toEqual([]);
    expect((await fetch(`${s.url}/api/polls/${poll.id}/integrity`)).status).toBe(200);
  });

  it('when only 1 or 2 voters have complete profiles, then the panel withholds its per-question figures too (they would be those voters\' own votes)', async () => {
    const poll = await publishedPoll(s.ctx, mod, { points: 0 });
    for (let i = 0; i < 4; i++) await vote(poll.id, incomplete(i), 'o1');
    await vote(poll.id, complete(0), 'o3');
    await vote(poll.id, complete(1), 'o2');
    const panel = await panelOf(poll.id);
    expect(panel).toMatchObject({ voters: 2, incomplete: 4, withheld: { reason: 'described_below_min_group', minGroup: MIN_GROUP }, questions: [] });
  });

  it('when a poll is published with publicLedger false, voted and finalised, then no ledger file is written, both ledger routes answer 404, and the integrity report and snapshot carry no ledger hash', async () => {
    const poll = await publishedPoll(s.ctx, mod, { points: 0, publicLedger: false });
    expect(poll.publicLedger).toBe(false);
    for (let i = 0; i < 4; i++) await vote(poll.id, complete(i), 'o1');
    await s.ctx.polls.close(poll.id);
    const before = filesUnder(dataDir);
    const { final } = await finalisePoll(s.ctx, poll.id, testLogger);
    expect(final.results.ballots).toBe(4);
    expect(final.ledger).toBeUndefined();
    expect(filesUnder(dataDir)).toEqual(before);
    expect(existsSync(ledgerDir(dataDir, s.ctx.keys.prefix, poll.id))).toBe(false);
    expect(await s.ctx.redis.exists(s.ctx.keys.pollLedgerExport(poll.id))).toBe(0); // no export record either

    for (const ext of ['jsonl', 'csv']) {
      const r = await fetch(`${s.url}/api/polls/${poll.id}/ledger.${ext}`);
      expect(r.status, ext).toBe(404);
      expect(r.headers.get('content-type')).toMatch(/^application\/json/);
      expect(errorBodySchema.parse(await r.json()).error.code).toBe('not_found');
    }
    const report = await get(`/polls/${poll.id}/integrity`, anon, (v) => pollIntegrityReportSchema.parse(v));
    expect(report).toMatchObject({ publicLedger: false, ledger: null, live: false, check: { source: 'finalise', ok: true, ballots: 4 } });
    const snapshot = (await (await fetch(`${s.url}/api/polls/${poll.id}/results.json`)).json()) as Record<string, unknown>;
    expect(snapshot).not.toHaveProperty('ledger');
    const csv = parseCsv(await (await fetch(`${s.url}/api/polls/${poll.id}/results.csv`)).text());
    expect(csv.filter((r) => r[1] === 'ledger_sha256')).toEqual([]);
  });
});
