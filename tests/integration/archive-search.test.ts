import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { sql } from 'kysely';
import { cityTestServer } from '../helpers/city.ts';
import { createTestUser } from '../helpers/users.ts';
import { publishedPoll } from '../helpers/polls.ts';
import { finalisedPoll } from '../helpers/decisions.ts';
import { testLogger } from '../helpers/context.ts';
import { finalisePoll } from '../../server/polls/lifecycle.jobs.ts';
import { createDb } from '../../server/db/db.ts';
import { createArchiveStore } from '../../server/archive/archive.store.ts';
import { createArchiveSync } from '../../server/archive/archive.sync.ts';
import type { RunningServer } from '../../server/main.ts';
import type { User } from '../../shared/users.ts';

type Who = { user: User; headers: Record<string, string> };

const park = {
  title: 'Парк у реки',
  description: 'Благоустройство набережной',
  questions: [
    { id: 'q1', text: 'Какие скамейки поставить?', kind: 'single' as const, options: [{ id: 'o1', label: 'Деревянные' }, { id: 'o2', label: 'Металлические' }] },
  ],
};

describe('the archive of finalised polls in PostgreSQL (Russian full text)', () => {
  let s: RunningServer & { url: string };
  let mod: Who;
  beforeAll(async () => {
    s = await cityTestServer();
    mod = await createTestUser(s.ctx, { roles: ['moderator'] });
  });
  afterAll(async () => {
    await s?.close();
  });

  const search = async (q: string) => {
    const r = await fetch(`${s.url}/api/archive?q=${encodeURIComponent(q)}&pageSize=50`);
    expect(r.status, q).toBe(200);
    return ((await r.json()) as { items: { pollId: number }[] }).items.map((i) => i.pollId);
  };
  const rows = async (pollId: number) =>
    Number((await sql<{ n: number }>`select count(*)::int as n from poll_archive where poll_id = ${pollId}`.execute(s.ctx.city!.db)).rows[0]!.n);

  it('when a poll is finalised, then it has one archive row, and finalising it again (a retried job) writes nothing more', async () => {
    const { poll, final } = await finalisedPoll(s.ctx, mod.user, [], { title: 'Фонари на бульваре' });
    expect(await rows(poll.id)).toBe(1);
    const again = await finalisePoll(s.ctx, poll.id, testLogger);
    expect(again).toMatchObject({ already: true, final });
    expect(await rows(poll.id)).toBe(1);
    expect(await s.ctx.redis.sismember(s.ctx.keys.archivePending(), String(poll.id))).toBe(0);
  });

  it('when the archive is searched in Russian, then word forms match by stem ("парки" finds "Парк"), over the title, description, questions and options', async () => {
    const { poll } = await finalisedPoll(s.ctx, mod.user, [], park);
    const other = await finalisedPoll(s.ctx, mod.user, [], { title: 'Ремонт дорог' });
    expect(await search('парки')).toEqual([poll.id]); // not a substring of "Парк у реки": found by its stem
    expect(await search('набережные')).toEqual([poll.id]); // description
    expect(await search('скамейку')).toEqual([poll.id]); // question text
    expect(await search('деревянная')).toEqual([poll.id]); // option label
    expect(await search('дороги')).toEqual([other.poll.id]);
    expect(await search('библиотека')).toEqual([]);
  });

  it('when the query holds full-text operators, LIKE wildcards, quotes or a NUL, then the answer is a page or a 400, never a 500, and a wildcard is taken literally', async () => {
    for (const q of ['%', '_', '\\', "'", '!парк & | :*', '"парк', '-парк', 'парк\u0000']) {
      const r = await fetch(`${s.url}/api/archive?q=${encodeURIComponent(q)}`);
      expect([200, 400], JSON.stringify(q)).toContain(r.status);
    }
    expect(await search('%')).toEqual([]);
    expect((await fetch(`${s.url}/api/archive?q=${encodeURIComponent('парк\u0000')}`)).status).toBe(400);
    expect((await fetch(`${s.url}/api/city/reports?q=${encodeURIComponent('парк\u0000')}`)).status).toBe(400);
  });

  it('when PostgreSQL is unreachable at finalisation, then the poll still finalises and waits as pending (the archive lists it from the feed meanwhile), and the sweep archives it once', async () => {
    const p = await publishedPoll(s.ctx, mod.user, { points: 0, title: 'Сквер у школы' });
    await s.ctx.polls.close(p.id);
    const dead = createDb('postgres://postgres:x@127.0.0.1:1/none', { max: 1, connectTimeoutMs: 500, logger: testLogger });
    const offline = createArchiveSync({ store: createArchiveStore(dead.db), isReady: () => true, redis: s.ctx.redis, keys: s.ctx.keys, polls: s.ctx.polls, logger: testLogger });
    try {
      const out = await finalisePoll({ ...s.ctx, archiveSync: offline }, p.id, testLogger);
      expect(out.already).toBe(false);
    } finally {
      await dead.db.destroy();
    }
    expect((await s.ctx.polls.get(p.id))!.status).toBe('finalised');
    expect(await rows(p.id)).toBe(0);
    expect(await s.ctx.redis.sismember(s.ctx.keys.archivePending(), String(p.id))).toBe(1);
    expect(await search('Сквер у школы')).toEqual([p.id]);

    const [a, b] = await Promise.all([s.ctx.archiveSync.sweep(testLogger), s.ctx.archiveSync.sweep(testLogger)]);
    expect(a.written + b.written).toBeGreaterThanOrEqual(1);
    expect(await rows(p.id)).toBe(1);
    expect(await s.ctx.redis.sismember(s.ctx.keys.archivePending(), String(p.id))).toBe(0);
    expect(await search('скверы')).toEqual([p.id]); // now from PostgreSQL, by stem
  });
});
