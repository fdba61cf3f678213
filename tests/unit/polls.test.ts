import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import {
  ageBandOf,
  ballotBodySchema,
  ballotIssues,
  pollCreateSchema,
  pollPatchSchema,
  publishIssues,
  type PollQuestion,
} from '../../shared/polls.ts';
import { effectiveStatus } from '../../server/polls/poll-status.ts';
import { ineligibility } from '../../server/polls/poll.access.ts';
import { mergeSmallGroups } from '../../server/ballots/ballot.service.ts';
import { createKeys } from '../../server/redis/keys.ts';
import { shardOf } from '../../server/ballots/ballot.store.ts';
import type { User } from '../../shared/users.ts';

const questions: PollQuestion[] = [
  { id: 'q1', text: 'A', kind: 'single', maxChoices: 1, required: true, options: [{ id: 'o1', label: '1' }, { id: 'o2', label: '2' }] },
  { id: 'q2', text: 'B', kind: 'multi', maxChoices: 2, required: true, options: [{ id: 'o1', label: '1' }, { id: 'o2', label: '2' }, { id: 'o3', label: '3' }] },
  { id: 'q3', text: 'C', kind: 'single', maxChoices: 1, required: false, options: [{ id: 'y', label: 'y' }, { id: 'n', label: 'n' }] },
];

describe('ballotIssues', () => {
  it('when a ballot answers every required question with known options, then there are no issues', () => {
    expect(ballotIssues(questions, { q1: ['o1'], q2: ['o1', 'o3'] })).toEqual([]);
    expect(ballotIssues(questions, { q1: ['o2'], q2: ['o2'], q3: [] })).toEqual([]);
    expect(ballotIssues(questions, { q1: ['o2'], q2: ['o2'], q3: ['n'] })).toEqual([]);
  });

  it('when a ballot breaks a rule, then each problem is named with its path and code', () => {
    expect(ballotIssues(questions, { q2: ['o1'] })).toEqual([{ path: 'answers.q1', code: 'required', message: 'question "q1" is required' }]);
    expect(ballotIssues(questions, { q1: ['o1', 'o2'], q2: ['o1'] })[0]).toMatchObject({ code: 'one_only', message: expect.stringMatching(/exactly one choice/) });
    expect(ballotIssues(questions, { q1: ['o1'], q2: ['o1', 'o2', 'o3'] })[0]).toMatchObject({ code: 'too_many', message: expect.stringMatching(/at most 2 choices/) });
    expect(ballotIssues(questions, { q1: ['zz'], q2: ['o1'] })[0]).toMatchObject({ code: 'unknown_option', message: expect.stringMatching(/unknown option "zz"/) });
    expect(ballotIssues(questions, { q1: ['o1'], q2: ['o1'], q9: ['o1'] })[0]).toEqual({ path: 'answers.q9', code: 'unknown_question', message: 'unknown question "q9"' });
    expect(ballotIssues(questions, { q1: ['o1'], q2: ['o1', 'o1'] })[0]).toMatchObject({ code: 'duplicate', message: expect.stringMatching(/chosen twice/) });
    // prototype keys are not questions
    expect(ballotIssues(questions, JSON.parse('{"q1":["o1"],"q2":["o1"],"__proto__":["x"]}')).length).toBe(1);
  });

  it('when any answers are thrown at it, then a ballot it accepts only holds known options within the caps (property)', () => {
    const id = fc.constantFrom('q1', 'q2', 'q3', 'q4', 'o1', 'o2', 'o3', 'y', 'n', 'zz');
    fc.assert(
      fc.property(fc.dictionary(id, fc.array(id, { maxLength: 5 })), (answers) => {
        if (ballotIssues(questions, answers).length) return;
        for (const [qid, chosen] of Object.entries(answers)) {
          const q = questions.find((x) => x.id === qid)!;
          expect(q).toBeDefined();
          expect(chosen.length).toBeLessThanOrEqual(q.maxChoices);
          expect(new Set(chosen).size).toBe(chosen.length);
          for (const o of chosen) expect(q.options.map((x) => x.id)).toContain(o);
        }
        for (const q of questions) if (q.required) expect(answers[q.id]?.length).toBeGreaterThan(0);
      }),
    );
  });
});

describe('ballotBodySchema', () => {
  it('when the shape is wrong, then it fails; extra fields and non-id keys included', () => {
    expect(ballotBodySchema.safeParse({ answers: { q1: ['o1'] } }).success).toBe(true);
    for (const bad of [null, [], {}, { answers: [] }, { answers: { q1: 'o1' } }, { answers: { q1: [1] } }, { answers: { 'q:1': ['o1'] } }, { answers: {}, x: 1 }, { answers: { q1: Array(21).fill('o1') } }])
      expect(ballotBodySchema.safeParse(bad).success, JSON.stringify(bad)).toBe(false);
  });
});

describe('poll definition schemas', () => {
  const base = { title: 'Park', questions: [{ id: 'q1', text: 'Where?', kind: 'multi', options: [{ id: 'a', label: 'A' }, { id: 'b', label: 'B' }, { id: 'c', label: 'C' }] }] };
  it('when a multi question has no cap, then the cap is the number of options; single is always 1', () => {
    const d = pollCreateSchema.parse(base);
    expect(d.questions[0].maxChoices).toBe(3);
    expect(d.questions[0].required).toBe(true);
    expect(pollCreateSchema.parse({ ...base, questions: [{ ...base.questions[0], kind: 'single' }] }).questions[0].maxChoices).toBe(1);
    expect(d).toMatchObject({ opensAt: null, closesAt: null, shards: 1, points: 0, publicResults: true, audience: { districts: [], minAge: null, maxAge: null } });
  });
  it('when a patch is empty or carries unknown fields, then it is refused', () => {
    expect(pollPatchSchema.safeParse({}).success).toBe(false);
    expect(pollPatchSchema.safeParse({ state: 'active' }).success).toBe(false);
    expect(pollPatchSchema.safeParse({ title: 'New title' }).success).toBe(true);
  });
  it('when publishing, then both dates are needed, in order, closing in the future', () => {
    const d = pollCreateSchema.parse(base);
    expect(publishIssues(d, 0).map((i) => i.path)).toEqual(['opensAt', 'closesAt']);
    const now = Date.parse('2030-01-01T00:00:00Z');
    expect(publishIssues({ ...d, opensAt: '2030-01-01T00:00:00Z', closesAt: '2030-01-02T00:00:00Z' }, now)).toEqual([]);
    expect(publishIssues({ ...d, opensAt: '2030-01-01T00:00:00Z', closesAt: '2030-01-01T00:00:00Z' }, now - 1000).map((i) => i.message)).toEqual(['closesAt must be after opensAt']);
    expect(publishIssues({ ...d, opensAt: '2029-01-01T00:00:00Z', closesAt: '2029-06-01T00:00:00Z' }, now).map((i) => i.message)).toEqual(['closesAt is in the past']);
  });
});

describe('mergeSmallGroups (anonymity)', () => {
  it('when groups are under the threshold, then they become "other"; a too-small "other" swallows the smallest visible ones', () => {
    expect(mergeSmallGroups({ a: 10, b: 7 }, 5)).toEqual([{ key: 'a', ballots: 10 }, { key: 'b', ballots: 7 }]);
    expect(mergeSmallGroups({ a: 10, b: 2, c: 3 }, 5)).toEqual([{ key: 'a', ballots: 10 }, { key: 'other', ballots: 5 }]);
    expect(mergeSmallGroups({ a: 10, b: 6, c: 1 }, 5)).toEqual([{ key: 'a', ballots: 10 }, { key: 'other', ballots: 7 }]);
    expect(mergeSmallGroups({ a: 3 }, 5)).toEqual([{ key: 'other', ballots: 3 }]);
    expect(mergeSmallGroups({}, 5)).toEqual([]);
  });
  it('when any groups are merged, then totals are kept and no shown group (other than a lone "other") is under the threshold (property)', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f'), fc.nat(30)), fc.integer({ min: 1, max: 10 }), (groups, min) => {
        const out = mergeSmallGroups(groups, min);
        expect(out.reduce((s, g) => s + g.ballots, 0)).toBe(Object.values(groups).reduce((s, n) => s + n, 0));
        for (const g of out) if (g.key !== 'other') expect(g.ballots).toBeGreaterThanOrEqual(min);
        const other = out.find((g) => g.key === 'other');
        if (other && out.length > 1) expect(other.ballots).toBeGreaterThanOrEqual(min);
      }),
    );
  });
});

describe('status, eligibility, age bands', () => {
  const def = pollCreateSchema.parse({
    title: 'Park',
    questions: [{ id: 'q1', text: 'x', kind: 'single', options: [{ id: 'a', label: 'A' }, { id: 'b', label: 'B' }] }],
    opensAt: '2030-01-01T00:00:00Z',
    closesAt: '2030-01-02T00:00:00Z',
    audience: { districts: ['arbat'], minAge: 18, maxAge: 30 },
  });
  it('when the clock passes opensAt/closesAt, then a published poll reads scheduled → active → closed with no job run', () => {
    const t = (s: string) => Date.parse(s);
    expect(effectiveStatus({ state: 'scheduled', def }, t('2029-12-31T23:59:59Z'))).toBe('scheduled');
    expect(effectiveStatus({ state: 'scheduled', def }, t('2030-01-01T00:00:00Z'))).toBe('active');
    expect(effectiveStatus({ state: 'active', def }, t('2030-01-02T00:00:00Z') - 1)).toBe('active');
    expect(effectiveStatus({ state: 'active', def }, t('2030-01-02T00:00:00Z'))).toBe('closed');
    expect(effectiveStatus({ state: 'draft', def }, t('2030-01-01T12:00:00Z'))).toBe('draft');
    expect(effectiveStatus({ state: 'finalised', def }, 0)).toBe('finalised');
  });
  it('when a targeted poll meets residents, then only complete profiles in the district and age range qualify', () => {
    const u = (p: Partial<User>): User => ({ id: 1, phone: '+7', name: 'n', district: 'arbat', birthYear: 2005, gender: 'male', roles: ['resident'], profileComplete: true, createdAt: '', ...p });
    expect(ineligibility(def, u({}), 2030)).toBeNull();
    expect(ineligibility(def, u({ district: 'tverskoy' }), 2030)).toMatch(/other districts/);
    expect(ineligibility(def, u({ birthYear: 2015 }), 2030)).toMatch(/aged 18 and over/);
    expect(ineligibility(def, u({ birthYear: 1990 }), 2030)).toMatch(/up to 30/);
    expect(ineligibility(def, u({ profileComplete: false, district: null }), 2030)).toMatch(/complete your profile/);
    expect(ineligibility({ audience: { districts: [], minAge: null, maxAge: null } }, u({ profileComplete: false, district: null, birthYear: null }))).toBeNull();
  });
  it('when ages are computed from the birth year, then they fall in the documented bands', () => {
    expect([2013, 2012, 2006, 2005, 1996, 1995, 1966, 1965, 1900].map((y) => ageBandOf(y, 2030))).toEqual(['under18', '18-24', '18-24', '25-34', '25-34', '35-44', '55-64', '65plus', '65plus']);
    expect(ageBandOf(null, 2030)).toBe('unknown');
  });
});

describe('key layout (Redis Cluster ready)', () => {
  const keys = createKeys('ac:');
  const tag = (k: string) => /\{([^}]*)\}/.exec(k)![1];
  it('when the cast script gets its keys, then all of them share one hash tag per shard, and shards differ', () => {
    for (const [id, S] of [[1, 1], [42, 4]]) {
      const tags = new Set<string>();
      for (let k = 0; k < S; k++) {
        const ks = [keys.pollShardState(id, k), keys.pollVoters(id, k), keys.pollReceipts(id, k), keys.pollTally(id, k), keys.pollBreakdown(id, k), keys.pollLedger(id, k)];
        expect(new Set(ks.map(tag))).toEqual(new Set([`p:${id}.s${k}`]));
        tags.add(tag(ks[0]));
      }
      expect(tags.size).toBe(S);
      expect(tag(keys.poll(id))).toBe(tag(keys.pollFinal(id)));
    }
  });
  it('when users are spread over S shards, then shard = id mod S and bits are dense', () => {
    expect(shardOf(13, 4)).toEqual({ shard: 1, bit: 3 });
    expect(shardOf(13, 1)).toEqual({ shard: 0, bit: 13 });
  });
});
