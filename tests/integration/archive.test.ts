import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { cityTestServer } from '../helpers/city.ts';
import { createTestUser } from '../helpers/users.ts';
import { publishedPoll } from '../helpers/polls.ts';
import { finalisedPoll } from '../helpers/decisions.ts';
import { parseCsv } from '../../server/archive/results-csv.ts';
import { RESULTS_CSV_HEADER } from '../../shared/archive.ts';
import type { RunningServer } from '../../server/main.ts';
import type { User } from '../../shared/users.ts';
import type { Poll, PollCreate, PollFinal } from '../../shared/polls.ts';

type Who = { user: User; headers: Record<string, string> };

/** A poll whose texts need CSV quoting (comma, quotes, newline) and formula defusing (leading =). */
const trickyPoll = (): Partial<PollCreate> => ({
  title: 'Парк «Северный», этап 2',
  description: 'Где разбить парк: north, south or east?',
  questions: [
    { id: 'q1', text: 'Location, "roughly"', kind: 'single', options: [{ id: 'o1', label: 'North,\nby the river' }, { id: 'o2', label: '=SUM(A1:A9)' }, { id: 'o3', label: 'Восток' }] },
    { id: 'q2', text: 'Amenities', kind: 'multi', maxChoices: 2, options: [{ id: 'o1', label: 'Playground' }, { id: 'o2', label: 'Dog run' }, { id: 'o3', label: 'Cafe' }, { id: 'o4', label: 'Pond' }] },
  ],
});

describe('public archive and open data (results.csv / results.json)', () => {
  let s: RunningServer & { url: string };
  let mod: Who;
  let official: Who;
  let voters: User[];
  let park: { poll: Poll; final: PollFinal };
  beforeAll(async () => {
    s = await cityTestServer(); // the archive of finalised polls is in PostgreSQL
    mod = await createTestUser(s.ctx, { roles: ['moderator'] });
    official = await createTestUser(s.ctx, { roles: ['official'] });
    const districts = ['arbat', 'arbat', 'arbat', 'arbat', 'arbat', 'arbat', 'tverskoy', 'tverskoy', 'tverskoy', 'tverskoy', 'tverskoy', 'khamovniki'];
    voters = [];
    for (const [i, district] of districts.entries()) voters.push((await createTestUser(s.ctx, { profile: { district, birthYear: i < 7 ? 1990 : 1955, gender: 'male' } })).user);
    await s.ctx.residents.rebuild(); // made through the store: count them into the eligible base (the raking targets)
    park = await finalisedPoll(s.ctx, mod.user, voters, trickyPoll());
  });
  afterAll(async () => {
    await s?.close();
  });

  const get = (path: string, headers: Record<string, string> = {}) => fetch(`${s.url}/api${path}`, { headers });

  it('when the CSV of a finalised poll is parsed back, then it starts with a UTF-8 BOM and equals the finalised snapshot exactly (counts, respondents, breakdowns, texts) and carries no personal data', async () => {
    const r = await get(`/polls/${park.poll.id}/results.csv`);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^text\/csv; charset=utf-8/);
    const bytes = new Uint8Array(await r.clone().arrayBuffer());
    expect([...bytes.slice(0, 3)]).toEqual([0xef, 0xbb, 0xbf]); // Excel on Windows needs it for Cyrillic
    const text = await r.text();
    const rows = parseCsv(text);
    expect(rows[0]).toEqual([...RESULTS_CSV_HEADER]);
    const body = rows.slice(1);
    expect(body.every((row) => row.length === RESULTS_CSV_HEADER.length && row[0] === String(park.poll.id))).toBe(true);
    const f = park.final.results;
    expect(f.ballots).toBe(12);

    expect(body.filter((x) => x[1] === 'ballots').map((x) => Number(x[7]))).toEqual([f.ballots]);
    const options = body.filter((x) => x[1] === 'option');
    expect(options.map((x) => ({ q: x[2], o: x[4], n: Number(x[7]) }))).toEqual(f.questions.flatMap((q) => q.options.map((o) => ({ q: q.id, o: o.id, n: o.count }))));
    expect(body.filter((x) => x[1] === 'district').map((x) => ({ key: x[6], ballots: Number(x[7]) }))).toEqual(f.breakdown.district);
    expect(body.filter((x) => x[1] === 'age_band').map((x) => ({ key: x[6], ballots: Number(x[7]) }))).toEqual(f.breakdown.ageBand);
    const respondents = body.filter((x) => x[1] === 'respondents');
    expect(respondents.map((x) => ({ q: x[2], n: Number(x[7]) }))).toEqual(f.questions.map((q) => ({ q: q.id, n: q.respondents })));
    expect(f.questions.every((q) => typeof q.respondents === 'number' && q.respondents > 0)).toBe(true);
    // the raked result and the published ledger's hashes (the open count)
    const weighted = body.filter((x) => x[1] === 'weighted_option');
    expect(park.final.representativeness?.weighting).toBeTruthy();
    expect(weighted.map((x) => ({ q: x[2], o: x[4], n: Number(x[7]) }))).toEqual(
      park.final.representativeness!.questions.flatMap((q) => q.options.map((o) => ({ q: q.id, o: o.id, n: Number(o.weighted.toFixed(2)) }))),
    );
    const hashes = body.filter((x) => x[1] === 'ledger_sha256');
    expect(hashes.map((x) => [x[6], x[7]])).toEqual([['jsonl', park.final.ledger!.jsonl.sha256], ['csv', park.final.ledger!.csv.sha256]]);
    expect(body).toHaveLength(1 + respondents.length + options.length + f.breakdown.district.length + f.breakdown.ageBand.length + weighted.length + hashes.length);
    // breakdowns are the anonymity-merged ones (khamovniki has 1 voter: never shown on its own)
    expect(f.breakdown.district.map((g) => g.key)).not.toContain('khamovniki');
    // texts survive quoting; a formula is defused with a leading apostrophe
    const label = (q: string, o: string) => options.find((x) => x[2] === q && x[4] === o)!;
    expect(label('q1', 'o1')[3]).toBe('Location, "roughly"');
    expect(label('q1', 'o1')[5]).toBe('North,\nby the river');
    expect(label('q1', 'o2')[5]).toBe("'=SUM(A1:A9)");
    expect(label('q1', 'o3')[5]).toBe('Восток');
    // no personal data: no phone, no user id column, no voter hash from the ledger
    for (const v of voters) expect(text).not.toContain(v.phone);
    const ledger = await s.ctx.redis.xrange(s.ctx.keys.pollLedger(park.poll.id, 0), '-', '+', 'COUNT', 1);
    expect(text).not.toContain(ledger[0][1][1]);
  });

  it('when results.json is fetched, then it is the finalised snapshot as stored with the question and option texts, cacheable, and an unchanged ETag gets 304', async () => {
    const r = await get(`/polls/${park.poll.id}/results.json`);
    expect(r.status).toBe(200);
    const doc = (await r.json()) as PollFinal & { poll: { id: number; title: string; questions: { id: string; text: string; options: { id: string; label: string }[] }[] } };
    const { poll: texts, ...snapshot } = doc;
    expect(snapshot).toEqual(await s.ctx.polls.getFinal(park.poll.id));
    expect(texts.id).toBe(park.poll.id);
    expect(texts.title).toBe(park.poll.title);
    expect(texts.questions.map((q) => [q.id, q.text, q.options.map((o) => [o.id, o.label])])).toEqual(
      park.poll.questions.map((q) => [q.id, q.text, q.options.map((o) => [o.id, o.label])]),
    );
    expect(r.headers.get('cache-control')).toMatch(/public, max-age=\d+/);
    const etag = r.headers.get('etag')!;
    expect(etag).toMatch(/^".+"$/);
    expect(r.headers.get('last-modified')).toBe(new Date(park.final.finalisedAt).toUTCString());
    const again = await get(`/polls/${park.poll.id}/results.json`, { 'if-none-match': etag });
    expect(again.status).toBe(304);
    const csv = await get(`/polls/${park.poll.id}/results.csv`);
    expect((await get(`/polls/${park.poll.id}/results.csv`, { 'if-none-match': csv.headers.get('etag')! })).status).toBe(304);
  });

  it('when a poll is not finalised, unknown, a draft, its results are not public or it has fewer ballots than the anonymity threshold, then 409 / 404 / 403 with the JSON error shape', async () => {
    const active = await publishedPoll(s.ctx, mod.user);
    const closed = await publishedPoll(s.ctx, mod.user);
    await s.ctx.polls.close(closed.id); // no worker here: it stays closed, not finalised
    const draft = await s.ctx.polls.create({ title: 'A draft', questions: trickyPoll().questions! }, mod.user);
    const hidden = await finalisedPoll(s.ctx, mod.user, [], { publicResults: false });
    const few = await finalisedPoll(s.ctx, mod.user, voters.slice(0, 2)); // 2 < RESULTS_MIN_GROUP_SIZE (5)
    const cases: [number | string, number, string][] = [
      [active.id, 409, 'invalid_state'],
      [closed.id, 409, 'invalid_state'],
      [draft.id, 404, 'not_found'],
      [999_999, 404, 'not_found'],
      ['0', 400, 'invalid_params'],
      [hidden.poll.id, 403, 'forbidden'],
      [few.poll.id, 403, 'forbidden'],
    ];
    for (const [id, status, code] of cases) {
      for (const ext of ['csv', 'json']) {
        const r = await get(`/polls/${id}/results.${ext}`);
        expect([r.status, ((await r.json()) as any).error.code], `${id}.${ext}`).toEqual([status, code]);
      }
    }
  });

  it('when the archive is searched and paged, then it lists closed and finalised polls only, most recently ended first, with results, decision status and deadline fields, and the search covers question and option texts', async () => {
    const library = await publishedPoll(s.ctx, mod.user, { title: 'Library opening hours', description: 'Should the district library open on Sundays?' });
    await s.ctx.polls.close(library.id);
    const lights = await finalisedPoll(s.ctx, mod.user, voters.slice(0, 5), { title: 'Street lights on Arbat', description: 'Warm or cold light?' });
    await fetch(`${s.url}/api/polls/${lights.poll.id}/decision`, { method: 'POST', headers: official.headers, body: JSON.stringify({ summary: 'Warm light it is', body: 'Installed by May.' }) });
    const still = await publishedPoll(s.ctx, mod.user, { title: 'Still open: park benches' });

    const page = async (qs: string) => {
      const r = await get(`/archive?${qs}`);
      expect(r.status, qs).toBe(200);
      return (await r.json()) as any;
    };
    const all = await page('pageSize=50');
    const ids = all.items.map((i: any) => i.pollId);
    expect(ids).not.toContain(still.id);
    expect(ids.slice(0, 2)).toEqual([lights.poll.id, library.id]);
    expect(ids).toContain(park.poll.id);
    expect(all.total).toBe(ids.length);

    const l = all.items[0];
    expect(l).toMatchObject({ status: 'finalised', title: 'Street lights on Arbat', overdue: false, workingDaysLeft: null, answeredLate: false, decision: { status: 'decided', summary: 'Warm light it is' } });
    expect(l.results).toEqual(lights.final.results);
    expect(l.answerDeadline).toEqual(expect.any(String));
    const lib = all.items[1];
    expect(lib).toMatchObject({ status: 'closed', decision: null, answerDeadline: null, overdue: false, finalisedAt: null });
    expect(lib.results.ballots).toBe(0);

    // search: case-insensitive (Cyrillic too), title, description, question or option text
    expect((await page('q=ПАРК')).items.map((i: any) => i.pollId)).toEqual([park.poll.id]);
    expect((await page(`q=${encodeURIComponent('ВОСТОК')}`)).items.map((i: any) => i.pollId)).toEqual([park.poll.id]); // an option label
    expect((await page('q=roughly')).items.map((i: any) => i.pollId)).toEqual([park.poll.id]); // a question text
    expect((await page('q=sundays')).items.map((i: any) => i.pollId)).toEqual([library.id]);
    expect(await page('q=no-such-words')).toMatchObject({ items: [], total: 0 });
    // paging
    const p1 = await page('pageSize=1&page=1');
    const p2 = await page('pageSize=1&page=2');
    expect([p1.items[0].pollId, p2.items[0].pollId]).toEqual([lights.poll.id, library.id]);
    expect(p2).toMatchObject({ page: 2, pageSize: 1, total: all.total });
    expect((await page(`pageSize=1&page=${all.total + 1}`)).items).toEqual([]);
    // bad queries
    for (const qs of ['page=0', 'pageSize=500', 'page=abc', 'sort=asc', `q=${'x'.repeat(201)}`]) {
      const r = await get(`/archive?${qs}`);
      expect([r.status, ((await r.json()) as any).error.code], qs).toEqual([400, 'invalid_query']);
    }
  });
  it('when a finalised poll is targeted and its results are not public, then the public archive hides it while officials (who must answer it) find it with its results and deadline', async () => {
    const arbat = voters.filter((v) => v.district === 'arbat');
    const hidden = await finalisedPoll(s.ctx, mod.user, arbat, {
      title: 'Арбат: только для жителей района',
      audience: { districts: ['arbat'], minAge: null, maxAge: null },
      publicResults: false,
    });
    const find = async (headers: Record<string, string> = {}) => {
      const r = await get(`/archive?q=${encodeURIComponent('только для жителей')}`, headers);
      expect(r.status).toBe(200);
      return { r, body: (await r.json()) as { items: { pollId: number; results: unknown; answerDeadline: string | null }[] } };
    };
    const anon = await find();
    expect(anon.body.items.map((i) => i.pollId)).not.toContain(hidden.poll.id);
    expect(anon.r.headers.get('cache-control')).toMatch(/^public/);

    const resident = await createTestUser(s.ctx, { profile: { district: 'tverskoy', birthYear: 1980, gender: 'female' } });
    expect((await find(resident.headers)).body.items.map((i) => i.pollId)).not.toContain(hidden.poll.id);
    expect((await get(`/polls/${hidden.poll.id}/results`, resident.headers)).status).toBe(403);

    const forOfficial = await find(official.headers);
    expect(forOfficial.r.headers.get('cache-control')).toBe('private, no-store');
    const item = forOfficial.body.items.find((i) => i.pollId === hidden.poll.id);
    expect(item?.results).toEqual(hidden.final.results);
    expect(item?.answerDeadline).toBeTruthy();
    const results = await get(`/polls/${hidden.poll.id}/results`, official.headers);
    expect(results.status).toBe(200);
    expect(((await results.json()) as { ballots: number }).ballots).toBe(arbat.length);
  });
});
