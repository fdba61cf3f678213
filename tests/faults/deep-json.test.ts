import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { io as ioClient, type Socket as ClientSocket } from 'socket.io-client';
import { freePort } from '../../server/redis/redis-server.ts';
import type { AppContext } from '../../server/context.ts';
import { MAX_JSON_DEPTH } from '../../server/json-depth.ts';
import { faultContext, faultRedis, makeStaff, makeVoters, processEnv, spawnServer, FAULT_ORIGIN, type FaultRedis } from '../helpers/faults.ts';
import { rawConnection, type RawRequest, type RawResponse } from '../helpers/fuzz.ts';
import { publishedPoll } from '../helpers/polls.ts';
import type { Spawned } from '../helpers/processes.ts';

/**
 * JSON nested tens of thousands of levels deep, from outside: the text parses (JSON.parse does not recurse), but
 * anything that walks the value afterwards may — zod's length checks run on any value with a `length` property
 * and compare it with `<=`, which turns `{"length":[[[…]]]}` into a string by recursing through every level.
 * Every entry point refuses such a value before a schema sees it (server/json-depth.ts): the Express API, the
 * ballot route outside Express, Open311, and Socket.IO event payloads. Each refusal is a 4xx in the route's
 * error shape; afterwards the server still serves valid requests and has logged no error.
 *
 * The server is a real `server/main.ts` process (with the ballot route in front of Express), so a stack
 * overflow that escaped would show as a 500, an `error` log line or a dead process. Bodies and frames are built
 * as text: nothing in this process walks the deep values.
 */

const PREFIX = 'dj:';
/** `n` nested arrays as JSON text. */
const arrays = (n: number) => `${'['.repeat(n)}${']'.repeat(n)}`;
/** `n` nested objects as JSON text. */
const objects = (n: number) => `${'{"a":'.repeat(n)}1${'}'.repeat(n)}`;
// under the HTTP body limit (64 KB) and the socket frame limit (16 KB); far deeper than the stack allows a
// recursive walk to go (the original finding overflowed at ~18,000 levels in a test process)
const HTTP_DEEP = 30_000;
const SOCKET_DEEP = 7_500;

describe('deep JSON: a body or socket payload nested thousands of levels deep is refused with a 4xx JSON error, never a 500, and the server stays up', () => {
  let redis: FaultRedis;
  let ctx: AppContext;
  let srv: Spawned & { url: string };
  let port = 0;
  let resident: { cookie: string };
  let pollId = 0;

  beforeAll(async () => {
    redis = await faultRedis('deep-json', 'everysec');
    ctx = faultContext(redis.url, PREFIX);
    port = await freePort();
    srv = await spawnServer(processEnv(redis.url, PREFIX), port);
    [resident] = await makeVoters(ctx, 2, 7000);
    const moderator = await makeStaff(ctx, '+79990007001', ['resident', 'moderator']);
    pollId = (await publishedPoll(ctx, moderator.user, { points: 0 })).id;
  });

  afterAll(async () => {
    if (srv && srv.child.exitCode === null && srv.child.signalCode === null) {
      srv.child.kill('SIGTERM');
      await srv.exited;
    }
    await ctx?.close();
    await redis?.destroy();
  });

  const errorLines = () =>
    srv
      .output()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .filter((l) => (JSON.parse(l) as { level: number }).level >= 50);

  async function send(req: RawRequest): Promise<RawResponse> {
    const c = rawConnection(port);
    try {
      return await c.send(req);
    } finally {
      c.close();
    }
  }
  const json = (method: string, target: string, body: string, opts: { chunked?: boolean } = {}): RawRequest => ({
    method,
    target,
    headers: [['cookie', resident.cookie], ['origin', FAULT_ORIGIN], ['content-type', 'application/json']],
    body: Buffer.from(body),
    ...(opts.chunked ? { chunkSize: 4_096 } : {}),
  });

  it('when deep JSON is sent to the API, the ballot route (with and without Content-Length) and Open311, then each answers 400 in its error shape and valid requests still work', async () => {
    const ballots = `/api/polls/${pollId}/ballots`;
    const cases: { name: string; req: RawRequest; open311?: boolean }[] = [
      // zod's max-length check on `district` compares the deep array with a number: the original finding
      { name: 'PATCH /api/me {district:{length:[[[…]]]}}', req: json('PATCH', '/api/me', `{"district":{"length":${arrays(HTTP_DEEP)}}}`) },
      { name: 'PATCH /api/me [[[…]]]', req: json('PATCH', '/api/me', arrays(HTTP_DEEP)) },
      { name: 'PATCH /api/me {name:{a:{a:…}}}', req: json('PATCH', '/api/me', `{"name":${objects(9_000)}}`) },
      { name: 'GET /api/districts with a deep body', req: json('GET', '/api/districts', arrays(HTTP_DEEP)) },
      // the ballot route outside Express (Content-Length) and the same request through Express (chunked)
      { name: 'POST ballots {answers:{q1:{length:[[[…]]]}}}', req: json('POST', ballots, `{"answers":{"q1":{"length":${arrays(HTTP_DEEP)}}}}`) },
      { name: 'POST ballots (chunked) {answers:{q1:{length:[[[…]]]}}}', req: json('POST', ballots, `{"answers":{"q1":{"length":${arrays(HTTP_DEEP)}}}}`, { chunked: true }) },
      { name: 'POST ballots [[[…]]]', req: json('POST', ballots, arrays(HTTP_DEEP)) },
      { name: 'POST /open311/v2/requests.json', req: json('POST', '/open311/v2/requests.json', `{"service_code":{"length":${arrays(HTTP_DEEP)}}}`), open311: true },
    ];
    for (const c of cases) {
      const res = await send(c.req);
      // soft: one run names every entry point that fails
      const text = res.body.toString('utf8');
      expect.soft(res.status, `${c.name}: ${text.slice(0, 300)}`).toBe(400);
      expect.soft(res.headers['content-type'], c.name).toMatch(/^application\/json/);
      const body = /^application\/json/.test(res.headers['content-type'] ?? '') ? (JSON.parse(text) as unknown) : text;
      if (c.open311) expect.soft(body, c.name).toEqual([{ code: 400, description: expect.stringMatching(/deeper than/) }]);
      else expect.soft(body, c.name).toEqual({ error: { code: 'invalid_body', message: expect.stringMatching(/deeper than/), details: null } });
    }

    // the limit's edge: a body exactly MAX_JSON_DEPTH deep reaches the schema, one level more does not
    const atLimit = await send(json('PATCH', '/api/me', `{"name":${arrays(MAX_JSON_DEPTH - 1)}}`));
    expect(JSON.parse(atLimit.body.toString('utf8')).error).toMatchObject({ code: 'invalid_body', message: 'Invalid profile' });
    const overLimit = await send(json('PATCH', '/api/me', `{"name":${arrays(MAX_JSON_DEPTH)}}`));
    expect(JSON.parse(overLimit.body.toString('utf8')).error).toMatchObject({ code: 'invalid_body', message: expect.stringMatching(/deeper than/) });

    // still serving: a valid profile change and a valid ballot (the route outside Express) go through; no error logged
    expect(srv.child.exitCode).toBeNull();
    expect((await fetch(`${srv.url}/healthz`)).status).toBe(200);
    const patched = await send(json('PATCH', '/api/me', '{"name":"Still Here"}'));
    expect(patched.status, patched.body.toString('utf8')).toBe(200);
    const cast = await send(json('POST', ballots, '{"answers":{"q1":["o2"],"q2":["o1","o4"],"q3":["yes"]}}'));
    expect(cast.status, cast.body.toString('utf8')).toBe(201);
    expect(errorLines()).toEqual([]);
  });

  it('when a Socket.IO event frame carries a deep payload, then its ack is {ok:false,error:bad_request}, the socket still answers and the server logged no error', async () => {
    const s = await new Promise<ClientSocket>((res, rej) => {
      const c = ioClient(srv.url, { transports: ['websocket'], forceNew: true, reconnection: false, extraHeaders: { origin: FAULT_ORIGIN, cookie: resident.cookie } });
      c.once('connect', () => res(c));
      c.once('connect_error', rej);
    });
    try {
      const engine = s.io.engine as unknown as { write: (m: string) => void; on: (e: 'packet', fn: (p: { type: string; data?: unknown }) => void) => void };
      // acks of frames written by hand: the client knows none of these ids, so they are read off the engine
      const acks = new Map<number, (a: unknown) => void>();
      engine.on('packet', (p) => {
        const m = p.type === 'message' && typeof p.data === 'string' ? /^3(\d+)(\[.*)$/s.exec(p.data) : null;
        if (m) acks.get(Number(m[1]))?.((JSON.parse(m[2]) as unknown[])[0]);
      });
      let nextId = 90_000;
      const rawEmit = (event: string, payloadJson: string) =>
        new Promise<unknown>((res, rej) => {
          const id = nextId++;
          const t = setTimeout(() => rej(new Error(`no ack for ${event} #${id}`)), 10_000);
          acks.set(id, (a) => {
            clearTimeout(t);
            res(a);
          });
          // an engine.io message frame `4` + a Socket.IO EVENT packet `2<ack id>[name, payload]`, under 16 KB
          engine.write(`2${id}[${JSON.stringify(event)},${payloadJson}]`);
        });
      const frames: [string, string][] = [
        ['poll:watch', `{"pollId":{"length":${arrays(SOCKET_DEEP)}}}`],
        ['poll:watch', arrays(SOCKET_DEEP)],
        ['poll:unwatch', `{"pollId":${objects(2_500)}}`],
        ['city:watch', `{"reportId":{"length":${arrays(SOCKET_DEEP)}}}`],
      ];
      for (const [event, payload] of frames) {
        const a = await rawEmit(event, payload);
        expect(a, `${event} ${payload.slice(0, 40)}`).toEqual({ ok: false, error: { code: 'bad_request', message: expect.stringMatching(/deeper than/), details: null } });
      }
      const pong = await s.timeout(5_000).emitWithAck('ping:server');
      expect(pong.ok).toBe(true);
    } finally {
      s.disconnect();
    }
    expect(srv.child.exitCode).toBeNull();
    expect(errorLines()).toEqual([]);
  });
});
