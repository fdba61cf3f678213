import { describe, it, expect } from 'vitest';
import type { AppContext } from '../../server/context.ts';
import { freePort } from '../../server/redis/redis-server.ts';
import { until } from '../helpers/processes.ts';
import { connectSocket, ask } from '../helpers/sockets.ts';
import {
  faultRedis,
  faultContext,
  processRegistry,
  processEnv,
  spawnServer,
  spawnWorker,
  makeVoters,
  makeStaff,
  publishViaApi,
  castHttp,
  FAULT_ORIGIN,
  type FaultRedis,
} from '../helpers/faults.ts';

type Probe = { what: string; status: number | string; code?: string; retryAfter?: string | null; ms: number };

/** One request of each kind that needs Redis: a ballot, a poll read, the caller's profile, a socket ack. */
async function probeAll(url: string, pollId: number, headers: Record<string, string>, socket: Awaited<ReturnType<typeof connectSocket>>, i: number): Promise<Probe[]> {
  const http = async (what: string, path: string, init: RequestInit = {}): Promise<Probe> => {
    const t0 = performance.now();
    const r = await fetch(`${url}${path}`, { headers, signal: AbortSignal.timeout(10_000), ...init });
    const body = (await r.json().catch(() => null)) as { error?: { code?: string } } | null;
    return { what, status: r.status, code: body?.error?.code, retryAfter: r.headers.get('retry-after'), ms: performance.now() - t0 };
  };
  const sock = async (): Promise<Probe> => {
    const t0 = performance.now();
    const ack = await ask(socket, 'poll:watch', { pollId });
    return { what: 'socket poll:watch', status: ack.ok ? 'ok' : 'error', code: ack.error?.code, ms: performance.now() - t0 };
  };
  const ballot = async (): Promise<Probe> => {
    const r = await castHttp(url, headers, pollId, { q1: ['o1'], q2: [['o1', 'o2'][i % 2]] });
    return { what: 'POST ballot', status: r.status, code: r.code, retryAfter: r.retryAfter ?? null, ms: r.ms };
  };
  return Promise.all([ballot(), http('GET poll', `/api/polls/${pollId}`), http('GET me', '/api/me'), sock()]);
}

describe('faults: requests fail fast while Redis is unreachable', () => {
  it('when Redis is killed or frozen, then every API request and socket ack needing it answers 503 unavailable (HTTP with Retry-After) within 1 s, /readyz names Redis, and service resumes by itself', async () => {
    const procs = processRegistry();
    let redis: FaultRedis | undefined;
    let ctx: AppContext | undefined;
    try {
      redis = await faultRedis('failfast', 'always');
      const prefix = 'f:failfast:';
      ctx = faultContext(redis.url, prefix);
      const env = processEnv(redis.url, prefix);
      const port = await freePort();
      const server = procs.add(await spawnServer(env, port));
      procs.add(await spawnWorker(env));
      const mod = await makeStaff(ctx, '+79990000002', ['moderator']);
      const pollId = await publishViaApi(server.url, mod.headers, { shards: 1, points: 0 });
      const [voter] = await makeVoters(ctx, 1, 400_000);
      const socket = await connectSocket(server.url, { cookie: voter.cookie, origin: FAULT_ORIGIN });
      expect((await ask(socket, 'poll:watch', { pollId })).ok).toBe(true);

      for (const fault of ['kill -9', 'SIGSTOP'] as const) {
        if (fault === 'kill -9') await redis.kill9();
        else redis.handle.process.kill('SIGSTOP');
        const probes: Probe[] = [];
        // several rounds over ~2 s of outage: the first right after the fault, the rest once clients are reconnecting
        for (let i = 0; i < 4; i++) probes.push(...(await probeAll(server.url, pollId, voter.headers, socket, i)));
        const ready = await fetch(`${server.url}/readyz`);
        const readyBody = (await ready.json()) as { checks: Record<string, string> };
        const worst = Math.max(...probes.map((p) => p.ms));
        console.log(
          `[fail-fast] Redis ${fault}: ${probes.length} requests, answers ${JSON.stringify(countBy(probes.map((p) => `${p.what}: ${p.status} ${p.code ?? ''}`)))}, slowest ${worst.toFixed(0)} ms; /readyz ${ready.status} ${JSON.stringify(readyBody.checks)}`,
        );
        for (const p of probes) {
          expect(p.status === 503 || p.status === 'error', `${p.what} answered ${p.status}`).toBe(true);
          expect(p.code, p.what).toBe('unavailable');
          // HTTP answers say when to come back; a socket ack has no headers
          if (!p.what.startsWith('socket')) expect(p.retryAfter, p.what).toBe('1');
          expect(p.ms, `${p.what} took ${p.ms.toFixed(0)} ms`).toBeLessThan(1_000);
        }
        expect(ready.status).toBe(503);
        expect(readyBody.checks.redis).toMatch(/^unreachable/);

        if (fault === 'kill -9') await redis.restart();
        else redis.handle.process.kill('SIGCONT');
        // no one acts: the server's connections come back by themselves
        const t0 = performance.now();
        await until(async () => (await fetch(`${server.url}/readyz`)).status === 200, 30_000, 50);
        const back = await castHttp(server.url, voter.headers, pollId, { q1: ['o2'], q2: ['o3'] });
        expect([201, 409]).toContain(back.status);
        expect((await ask(socket, 'poll:watch', { pollId })).ok).toBe(true);
        console.log(`[fail-fast] after ${fault}: ready again ${(performance.now() - t0).toFixed(0)} ms after Redis came back; ballot ${back.status}`);
      }
      socket.close();
      expect(server.output()).not.toMatch(/"level":50.*request failed/);
    } finally {
      redis?.handle.process.kill('SIGCONT');
      await procs.killAll();
      await ctx?.close().catch(() => {});
      await redis?.destroy();
    }
  });
});

function countBy(xs: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const x of xs) out[x] = (out[x] ?? 0) + 1;
  return out;
}
