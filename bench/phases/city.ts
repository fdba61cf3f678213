import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { sql } from 'kysely';
import { startRedisServer, freePort } from '../../server/redis/redis-server.ts';
import { startPostgresServer } from '../../server/postgres/postgres-server.ts';
import { createDb } from '../../server/db/db.ts';
import { createLogger } from '../../server/logger.ts';
import { DISTRICTS } from '../../shared/districts.ts';
import { spawnProject } from '../lib/proc.ts';
import { startListening } from '../lib/load.ts';
import { seedVoters, type Voter } from '../lib/seed.ts';
import { progress, sleep, summarize, cpuMeter, loadNow } from '../lib/util.ts';
import { BENCH_SECRET } from '../lib/platform.ts';
import { seedCityReports } from '../lib/city-seed.ts';
import { fmt, type Row } from '../lib/report.ts';

type Latency = { n: number; p50: number; p99: number; max: number };
export type IntakeRun = { label: string; ok: number; statuses: Record<string, number>; perSec: number; latencyMs: Latency; cpuMs?: Record<string, number> };
export type CityResult = {
  photoBytes: number;
  intake: { baseline: IntakeRun; platform: IntakeRun; ratio: number };
  seed: { reports: number; seconds: number };
  queries: { name: string; latencyMs: Latency }[];
  load: { start: string; end: string };
};

/** Moscow: the seeded rollup's days are the server's. */
const CITY_UTC_OFFSET_MINUTES = 180;
const r1 = (x: number) => Math.round(x * 10) / 10;
const lat = (xs: number[]): Latency => {
  const s = summarize(xs);
  return { n: s.n, p50: r1(s.p50), p99: r1(s.p99), max: r1(s.max) };
};

/** A ~1 MB JPEG of noise (noise does not compress: the size is the upload's). */
async function photoOfAbout(bytes: number): Promise<Buffer> {
  let side = 600;
  for (;;) {
    const raw = Buffer.alloc(side * side * 3);
    for (let i = 0; i < raw.length; i++) raw[i] = (i * 2654435761) >>> 24;
    const jpeg = await sharp(raw, { raw: { width: side, height: side, channels: 3 } }).jpeg({ quality: 95 }).toBuffer();
    if (jpeg.length >= bytes * 0.95) return jpeg;
    side = Math.ceil(side * Math.sqrt((bytes / jpeg.length) * 1.05));
  }
}

/** `connections` closed loops posting multipart reports (unique address each) for `seconds`. */
async function intakeLoad(label: string, url: string, origin: string, voters: Voter[], photo: Buffer, o: { connections: number; seconds: number }, pids: Record<string, number> = {}): Promise<IntakeRun> {
  const blob = new Blob([new Uint8Array(photo)], { type: 'image/jpeg' });
  const statuses: Record<string, number> = {};
  const times: number[] = [];
  let seq = 0;
  const meter = cpuMeter(pids);
  const t0 = performance.now();
  const until = t0 + o.seconds * 1000;
  await Promise.all(
    Array.from({ length: o.connections }, async () => {
      while (performance.now() < until) {
        const i = seq++;
        const v = voters[i % voters.length]!;
        const f = new FormData();
        f.append('category', 'road');
        f.append('district', DISTRICTS[i % DISTRICTS.length]!.id);
        f.append('address', `Бенчмарк-проспект ${i} ${label.length}`);
        f.append('description', 'Яма на дороге у остановки, глубокая и опасная');
        f.append('photos', blob, 'photo.jpg');
        const s = performance.now();
        try {
          const r = await fetch(`${url}/api/city/reports`, { method: 'POST', headers: { cookie: v.cookie, origin }, body: f });
          await r.arrayBuffer();
          statuses[r.status] = (statuses[r.status] ?? 0) + 1;
          if (r.status === 201) times.push(performance.now() - s);
        } catch {
          statuses.error = (statuses.error ?? 0) + 1;
        }
      }
    }),
  );
  const secs = (performance.now() - t0) / 1000;
  const cpuMs = meter.stop().cpuMs;
  const run = { label, ok: times.length, statuses, perSec: r1(times.length / secs), latencyMs: lat(times), cpuMs };
  progress(`city intake ${label}: ${run.ok} ok in ${secs.toFixed(1)} s = ${run.perSec}/s, p50 ${run.latencyMs.p50} ms, p99 ${run.latencyMs.p99} ms, statuses ${JSON.stringify(statuses)}`);
  return run;
}

/**
 * Our City: report intake with a ~1 MB photo (reports/s, p99) next to a bare multipart upload to node:http
 * in the same run, then 1M reports (and their answer cycles) seeded with generate_series and the public
 * list and board queries timed over HTTP. Its own PostgreSQL, redis-server and server process.
 */
export async function cityPhase(o: { quick: boolean; connections: number; seconds: number; reports: number }, onCleanup: (fn: () => Promise<void>) => void): Promise<CityResult> {
  const root = mkdtempSync(join(tmpdir(), 'ac-bench-city-'));
  chmodSync(root, 0o711);
  const loadStart = loadNow();
  const pg = await startPostgresServer({ dir: join(root, 'pg'), database: 'bench' });
  const redis = await startRedisServer({ dir: join(root, 'redis'), appendfsync: 'always' });
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const env = {
    NODE_ENV: 'production', APP_SECRET: BENCH_SECRET, REDIS_URL: redis.url, REDIS_PREFIX: 'ac:', DATABASE_URL: pg.url, DATA_DIR: join(root, 'data'),
    HOST: '127.0.0.1', PORT: String(port), LOG_LEVEL: 'warn', ALLOWED_ORIGINS: origin, CITY_REPORTS_PER_DAY: '10000', DATABASE_POOL_MAX: '20',
    CITY_UTC_OFFSET_MINUTES: String(CITY_UTC_OFFSET_MINUTES),
  };
  const server = spawnProject('server/main.ts', env);
  let stopped = false;
  const stopAll = async () => {
    if (stopped) return;
    stopped = true;
    await db.destroy().catch(() => {});
    await server.stop(20_000).catch(() => {});
    await redis.stop().catch(() => {});
    await pg.stop().catch(() => {});
    rmSync(root, { recursive: true, force: true });
  };
  // a SIGINT/SIGTERM of the bench stops these too
  onCleanup(stopAll);
  const { db } = createDb(pg.url, { max: 4, connectTimeoutMs: 5000, logger: createLogger({ name: 'bench', level: 'silent' }), statementTimeoutMs: 600_000 });
  try {
    for (let t = Date.now(); ; await sleep(100)) {
      if (server.child.exitCode !== null) throw new Error(`city server exited:\n${server.output().slice(-2000)}`);
      const ok = await fetch(`${origin}/api/city/categories`).then((r) => r.status === 200, () => false);
      if (ok) break;
      if (Date.now() - t > 60_000) throw new Error(`city server not ready:\n${server.output().slice(-2000)}`);
    }
    const voters = await seedVoters(redis.url, 'ac:', 2_000);
    const photo = await photoOfAbout(1_000_000);
    progress(`city: server pid ${server.pid} on ${origin}, postgres pid ${pg.pid}; photo ${(photo.length / 1e6).toFixed(2)} MB`);

    // ---- intake: bare upload baseline, then the platform (same client, same bodies) ----
    const { child: base, port: basePort } = await startListening('bench/baseline/upload-http.ts');
    const baseline = await intakeLoad('bare upload (node:http + busboy)', `http://127.0.0.1:${basePort}`, origin, voters, photo, o, { baseline: base.pid });
    await base.stop();
    const platform = await intakeLoad('platform POST /api/city/reports', origin, origin, voters, photo, o, { server: server.pid, postgres: pg.pid, redis: redis.pid });

    // ---- 1M reports with generate_series ----
    const { seconds: seedSeconds, districts, okrugs, cats, orgIds } = await seedCityReports(db, o.reports, CITY_UTC_OFFSET_MINUTES);

    // ---- queries over HTTP ----
    const queries: { name: string; path: () => string }[] = [
      { name: 'list: newest, no filter', path: () => '/api/city/reports' },
      { name: 'list: district', path: () => `/api/city/reports?district=${districts[Math.floor(Math.random() * districts.length)]}` },
      { name: 'list: okrug + status', path: () => `/api/city/reports?okrug=${okrugs[Math.floor(Math.random() * okrugs.length)]}&status=routed` },
      { name: 'list: category, page 50', path: () => `/api/city/reports?category=${cats[Math.floor(Math.random() * cats.length)]}&page=50` },
      { name: 'list: organisation', path: () => `/api/city/reports?organisation=${orgIds[Math.floor(Math.random() * orgIds.length)]}` },
      { name: 'list: overdue now', path: () => '/api/city/reports?overdue=true' },
      { name: 'list: full-text "фонарь"', path: () => `/api/city/reports?q=${encodeURIComponent(['фонарь', 'крыша', 'яма', 'качели'][Math.floor(Math.random() * 4)]!)}` },
      { name: 'board: by organisation, 90 days', path: () => '/api/city/board?by=organisation' },
      { name: 'board: by district, 90 days', path: () => '/api/city/board?by=district' },
      { name: 'board: by district, one okrug, 30 days', path: () => `/api/city/board?by=district&okrug=cao&from=${new Date(Date.now() - 30 * 86_400_000).toISOString().slice(0, 10)}` },
    ];
    const out: CityResult['queries'] = [];
    const per = o.quick ? 40 : 200;
    for (const q of queries) {
      for (let w = 0; w < 3; w++) await fetch(`${origin}${q.path()}`).then((r) => r.arrayBuffer());
      const times: number[] = [];
      let bad = 0;
      let k = 0;
      await Promise.all(
        Array.from({ length: 4 }, async () => {
          while (k++ < per) {
            const t = performance.now();
            const r = await fetch(`${origin}${q.path()}`);
            await r.arrayBuffer();
            if (r.status !== 200) bad++;
            times.push(performance.now() - t);
          }
        }),
      );
      out.push({ name: q.name, latencyMs: lat(times) });
      progress(`city query ${q.name}: p50 ${out.at(-1)!.latencyMs.p50} ms, p99 ${out.at(-1)!.latencyMs.p99} ms over ${times.length}${bad ? `, ${bad} non-200` : ''}`);
    }
    return {
      photoBytes: photo.length,
      intake: { baseline, platform, ratio: r1((platform.perSec / Math.max(0.001, baseline.perSec)) * 1000) / 1000 },
      seed: { reports: o.reports, seconds: r1(seedSeconds) },
      queries: out,
      load: { start: loadStart, end: loadNow() },
    };
  } finally {
    await stopAll();
  }
}

/** The city phase's table rows. */
export function cityRows(c: CityResult, connections: number): Row[] {
  const { baseline: b, platform: p } = c.intake;
  return [
    { phase: '6 city', metric: `report intake with a ${(c.photoBytes / 1e6).toFixed(1)} MB photo: reports/s, p50/p99 ms`, value: `${fmt(p.perSec, 1)}  ${p.latencyMs.p50}/${p.latencyMs.p99}`, note: `statuses ${JSON.stringify(p.statuses)}; server CPU ${fmt((p.cpuMs?.server ?? NaN) / Math.max(1, p.ok))} ms per report` },
    { phase: '6 city', metric: 'bare multipart upload (node:http + busboy): req/s, p50/p99 ms', value: `${fmt(b.perSec, 1)}  ${b.latencyMs.p50}/${b.latencyMs.p99}` },
    { phase: '6 city', metric: 'intake ratio to the bare upload', value: fmt(c.intake.ratio, 3), note: `${connections} connections; the difference is decoding, re-encoding and thumbnailing the photo (sharp), the files and the transaction` },
    { phase: '6 city', metric: `seed ${fmt(c.seed.reports)} reports (generate_series) + cycles (s)`, value: fmt(c.seed.seconds, 0) },
    ...c.queries.map((q) => ({ phase: '6 city', metric: `${q.name}: p50 / p99 (ms)`, value: `${q.latencyMs.p50} / ${q.latencyMs.p99}`, target: 'p99 <= 100', pass: q.latencyMs.p99 <= 100 })),
  ];
}
