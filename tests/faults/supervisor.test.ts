import { describe, it, expect } from 'vitest';
import { createServer } from 'node:net';
import type { AppContext } from '../../server/context.ts';
import { launch, type Launched } from '../helpers/launcher.ts';
import { isAlive, until } from '../helpers/processes.ts';
import { faultContext, makeStaff, makeVoters, publishViaApi, checkIntegrity, percentile } from '../helpers/faults.ts';
import { acknowledgements, answersOf, castStream, refusals, type Voter } from '../helpers/ballot-stream.ts';

const SHARDS = 2;

async function metric(url: string, name: string, labels: string): Promise<number | null> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(labels));
  return line ? Number(line.split(' ').pop()) : null;
}

async function killRedis(p: Launched): Promise<number> {
  const m = [...p.proc.output().matchAll(/redis-server (?:restarted \(pid|pid) (\d+)/g)];
  const pid = Number(m[m.length - 1][1]);
  process.kill(pid, 'SIGKILL');
  await until(() => !isAlive(pid), 10_000, 10);
  return pid;
}

describe('faults: npm start supervises its private stores', () => {
  it('when the private redis-server is killed -9 (3 times, mid-stream), then the supervisor restarts it on the same port with its AOF, ballots resume, none acknowledged is lost, and /metrics counts the restarts (also on a restarted server)', async () => {
    const p = await launch({ via: 'node', label: 'supervised' });
    let ctx: AppContext | undefined;
    try {
      ctx = faultContext(p.redisUrl, p.prefix);
      const mod = await makeStaff(ctx, '+79990000001', ['moderator']);
      const pollId = await publishViaApi(p.url, mod.headers, { shards: SHARDS, points: 5 });
      const voters: Voter[] = await makeVoters(ctx, 3 * 80, 300_000);
      const index = new Map(voters.map((v, i) => [v.user.id, i]));
      const answers = (v: Voter) => answersOf(index.get(v.user.id)!);
      const acks = acknowledgements();
      for (let round = 1; round <= 3; round++) {
        const batch = voters.slice((round - 1) * 80, round * 80);
        const restarted = p.proc.waitFor(new RegExp(`redis-server restarted \\(pid \\d+, restart ${round}\\)`), 60_000);
        const t0 = performance.now();
        const { results, fault } = await castStream({ url: p.url, pollId, voters: batch, answers, concurrency: 8, acks, faultAt: 20 + round * 10, fault: async () => void (await killRedis(p)) });
        await fault;
        await restarted;
        const upMs = performance.now() - t0;
        // no 500 and no hanging request during the outage: only 201 or a fast 503 `unavailable`
        const refused = refusals(results);
        for (const k of Object.keys(refused)) expect(k).toBe('503 unavailable');
        const slowest = Math.max(...results.filter((r) => r.status === 503).map((r) => r.ms), 0);
        // the refused voters retry once the platform answers again: 201, or 409 with their receipt
        await until(async () => (await fetch(`${p.url}/readyz`)).status === 200, 30_000, 50);
        const retry = await castStream({ url: p.url, pollId, voters: batch.filter((v) => !acks.acked.has(v.user.id)), answers, concurrency: 8, acks });
        expect(refusals(retry.results)).toEqual({});
        const lost = await acks.lost(ctx, pollId, SHARDS);
        console.log(
          `[supervisor] kill -9 #${round}: ${results.filter((r) => r.status === 201).length} acked in the stream, refused ${JSON.stringify(refused)} (slowest 503 ${slowest.toFixed(0)} ms, p50 of all ${percentile(results.map((r) => r.ms), 50).toFixed(0)} ms), redis back after ${upMs.toFixed(0)} ms; ${acks.acked.size} acknowledged in all, ${lost} lost`,
        );
        expect(lost).toBe(0);
        expect(slowest).toBeLessThan(1_000);
      }
      await checkIntegrity(ctx, pollId, 'after 3 supervised restarts', voters.length);
      expect(await metric(p.url, 'ac_supervised_restarts', 'child="redis"')).toBe(3);
      expect(p.proc.child.exitCode).toBeNull();
      expect(isAlive(p.pids.server) && isAlive(p.pids.worker)).toBe(true); // they reconnected; nobody restarted them
      // a restarted server learns the counts so far (its /metrics starts empty)
      const serverBack = p.proc.waitFor(/server restarted \(restart 1\)/, 60_000);
      process.kill(p.pids.server, 'SIGKILL');
      await serverBack;
      await until(async () => (await fetch(`${p.url}/readyz`)).status === 200, 60_000, 100);
      await until(async () => (await metric(p.url, 'ac_supervised_restarts', 'child="server"')) === 1, 10_000, 100);
      expect(await metric(p.url, 'ac_supervised_restarts', 'child="redis"')).toBe(3);
    } finally {
      await ctx?.close().catch(() => {});
      await p.destroy();
    }
  });

  it('when redis-server keeps failing to start (its port taken after a kill -9), then the supervisor gives up with a clear message and stops everything', async () => {
    const p = await launch({ via: 'node', label: 'giveup' });
    const squatter = createServer();
    try {
      const port = Number(new URL(p.redisUrl).port);
      await killRedis(p);
      await new Promise<void>((res, rej) => squatter.once('error', rej).listen(port, '127.0.0.1', () => res()));
      const t0 = performance.now();
      const { code } = await Promise.race([p.proc.exited, new Promise<{ code: null }>((res) => setTimeout(() => res({ code: null }), 60_000))]);
      expect(code, p.proc.output().slice(-3000)).not.toBeNull();
      console.log(`[supervisor] gave up after ${(performance.now() - t0).toFixed(0)} ms: ${p.proc.output().match(/redis failed .*/)?.[0]}`);
      expect(code).toBe(1);
      expect(p.proc.output()).toMatch(/redis failed 5 times in a row \(did not start, or exited within 10 s of starting\); giving up/);
      expect(p.proc.output()).toMatch(/redis did not start: .*(Address already in use|bind)/i);
      expect(p.survivors()).toEqual([]);
    } finally {
      squatter.close();
      await p.destroy();
    }
  });

  it('when the private postgres is killed -9, then the supervisor restarts it on the same port (Our City answers 503 meanwhile, then 200, /metrics counts it); when it then cannot start again, /readyz names the database and stays 200 (voting does not need it) (its port taken), then the supervisor gives up and stops everything', async () => {
    const p = await launch({ via: 'node', label: 'pg' });
    const squatter = createServer();
    const reports = async () => (await fetch(`${p.url}/api/city/reports`, { signal: AbortSignal.timeout(10_000) })).status;
    const readyz = async () => {
      const r = await fetch(`${p.url}/readyz`, { signal: AbortSignal.timeout(10_000) });
      return { http: r.status, ...((await r.json()) as { status: string; checks: Record<string, string> }) };
    };
    const killPostgres = async () => {
      const m = [...p.proc.output().matchAll(/private postgres (?:restarted \(pid|pid) (\d+)/g)];
      const pid = Number(m[m.length - 1]![1]);
      process.kill(pid, 'SIGKILL');
      await until(() => !isAlive(pid), 10_000, 10);
    };
    try {
      expect(await reports()).toBe(200);
      expect((await readyz()).checks.postgres).toBe('ok');
      const restarted = p.proc.waitFor(/private postgres restarted \(pid \d+, restart 1\)/, 60_000);
      await killPostgres();
      const during = await reports();
      await restarted;
      // while it was down the answer was a 503 `unavailable`, or already 200 if the restart was that quick
      expect([200, 503]).toContain(during);
      await until(async () => (await reports()) === 200, 30_000, 100);
      expect(await metric(p.url, 'ac_supervised_restarts', 'child="postgres"')).toBe(1);
      expect(isAlive(p.pids.server) && isAlive(p.pids.worker)).toBe(true);

      await killPostgres();
      await new Promise<void>((res, rej) => squatter.once('error', rej).listen(p.postgresPort, '127.0.0.1', () => res()));
      // while the supervisor retries, /readyz names the database and stays 200: voting does not need it
      const down = await readyz();
      expect(down.http, JSON.stringify(down)).toBe(200);
      expect(down.status).toBe('ready');
      expect(down.checks.postgres).toMatch(/^(unreachable|not ready)/);
      const { code } = await Promise.race([p.proc.exited, new Promise<{ code: null }>((res) => setTimeout(() => res({ code: null }), 90_000))]);
      expect(code, p.proc.output().slice(-3000)).toBe(1);
      expect(p.proc.output()).toMatch(/postgres failed 5 times in a row .*; giving up/);
      expect(p.survivors()).toEqual([]);
    } finally {
      squatter.close();
      await p.destroy();
    }
  });
});
