import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from '../../server/redis/redis-server.ts';
import type { AppContext } from '../../server/context.ts';
import { faultContext, faultRedis, makeVoters, pool, processEnv, processRegistry, spawnServer, type FaultRedis } from '../helpers/faults.ts';
import { faultPostgres, photoFiles, type FaultPostgres } from '../helpers/city-faults.ts';
import { jpegWithGps, reportFields, reportForm } from '../helpers/city.ts';

type Outcome = { status: number; ms: number; id?: number };

describe('faults: kill -9 of PostgreSQL in the middle of report submits (real server process)', () => {
  const procs = processRegistry();
  let redis: FaultRedis;
  let pgs: FaultPostgres;
  let ctx: AppContext;
  let url: string;
  let server: Awaited<ReturnType<typeof spawnServer>>;
  let photoDir: string;
  let residents: Awaited<ReturnType<typeof makeVoters>>;

  beforeAll(async () => {
    [redis, pgs] = await Promise.all([faultRedis('city-pg-kill', 'everysec'), faultPostgres('kill')]);
    photoDir = mkdtempSync(join(tmpdir(), 'ac-faults-photos-'));
    const prefix = 'f:city-pg:';
    const extra = { DATABASE_URL: pgs.url, PHOTO_DIR: photoDir, CITY_REPORTS_PER_DAY: '1000', DATABASE_CONNECT_TIMEOUT_MS: '1000' };
    ctx = faultContext(redis.url, prefix, extra);
    server = procs.add(await spawnServer(processEnv(redis.url, prefix, extra), await freePort()));
    url = server.url;
    residents = await makeVoters(ctx, 40, 600_000);
  });
  afterAll(async () => {
    await procs.killAll();
    await ctx?.close().catch(() => {});
    await pgs?.destroy();
    await redis?.destroy();
  });

  const submit = async (i: number, photo: Buffer): Promise<Outcome> => {
    const t0 = performance.now();
    const who = residents[i % residents.length]!;
    try {
      const r = await fetch(`${url}/api/city/reports`, {
        method: 'POST',
        headers: { cookie: who.cookie, origin: who.headers.origin! },
        body: reportForm(reportFields({ address: `Фаулт-стрит ${i}` }), [photo, photo]),
        signal: AbortSignal.timeout(20_000),
      });
      const body = (await r.json()) as any;
      return { status: r.status, ms: performance.now() - t0, id: body.id };
    } catch {
      return { status: -1, ms: performance.now() - t0 };
    }
  };

  it('when postgres is killed while reports with photos stream in, then every answer is 201 or a fast 503, no half report and no orphan photo file remain, and a retry succeeds once it is back', async () => {
    const photos = await Promise.all(Array.from({ length: 4 }, () => jpegWithGps({ width: 600, height: 600, noise: true })));
    const outcomes: Outcome[] = new Array(60);
    let killed = false;
    let done = 0;
    await pool(Array.from({ length: 60 }, (_, i) => i), 6, async (i) => {
      outcomes[i] = await submit(i, photos[i % photos.length]!);
      if (++done === 12 && !killed) {
        killed = true;
        await pgs.kill9();
      }
    });
    const statuses = outcomes.map((o) => o.status);
    expect(statuses.every((s) => s === 201 || s === 503), JSON.stringify(statuses)).toBe(true);
    expect(statuses.filter((s) => s === 201).length).toBeGreaterThanOrEqual(12);
    const failed = outcomes.map((o, i) => ({ ...o, i })).filter((o) => o.status === 503);
    expect(failed.length).toBeGreaterThan(0);
    // "fast": no 503 waited much beyond the pool's connect timeout (1 s) on a loaded machine
    expect(Math.max(...failed.map((o) => o.ms))).toBeLessThan(8_000);
    // the server never answered 500 and is still up
    expect((await fetch(`${url}/healthz`)).status).toBe(200);

    await pgs.restart();
    const c = new pg.Client({ connectionString: pgs.url });
    await c.connect();
    try {
      const reports = (await c.query('select id from city_reports order by id')).rows.map((r) => Number(r.id));
      const ok = outcomes.filter((o) => o.status === 201).map((o) => o.id!);
      // every acknowledged report is there (fsync is off in this cluster, but the postmaster crash is not a
      // machine crash: the WAL in the page cache survives), and nothing else
      expect(reports.sort((a, b) => a - b)).toEqual(ok.sort((a, b) => a - b));
      const counts = (await c.query('select report_id, count(*)::int n from city_photos group by report_id')).rows;
      expect(counts.every((r) => r.n === 2)).toBe(true);
      expect(counts.length).toBe(reports.length);
      const hashes = new Set((await c.query('select distinct hash from city_photos')).rows.map((r) => r.hash as string));
      const files = photoFiles(photoDir);
      expect(files.filter((f) => !hashes.has(f.slice(0, 64)))).toEqual([]);
      expect(files.filter((f) => f.endsWith('.tmp'))).toEqual([]);
    } finally {
      await c.end();
    }

    // a retry of a refused submit succeeds once the database is back (the pool reconnects by itself)
    const retry = failed[0]!;
    let again: Outcome = { status: 0, ms: 0 };
    for (let t = 0; t < 50 && again.status !== 201; t++) {
      again = await submit(retry.i, photos[0]!);
      if (again.status !== 201) await new Promise((r) => setTimeout(r, 200));
    }
    expect(again.status).toBe(201);

    // the 503s used up none of the residents' daily reports: each counter holds the reports filed
    const filed = new Map<number, number>();
    for (const [i, o] of [...outcomes.map((o, i) => [i, o] as const), [retry.i, again] as const]) {
      if (o.status === 201) filed.set(i % residents.length, (filed.get(i % residents.length) ?? 0) + 1);
    }
    const counters = await Promise.all(residents.map(async (r) => Number((await ctx.redis.get(ctx.keys.rate('city-reports', String(r.user.id)))) ?? 0)));
    expect(counters).toEqual(residents.map((_, k) => filed.get(k) ?? 0));
  });
});
