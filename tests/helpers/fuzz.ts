import { connect, type Socket as NetSocket } from 'node:net';
import type { AppContext } from '../../server/context.ts';
import { faultContext, processEnv } from './faults.ts';
import { spawnScript, type Spawned } from './processes.ts';

/**
 * The server under fuzz (tests/helpers/fuzz-server.entry.ts) as a separate process (its own core; a crash is a real exit), plus a context in
 * the test process on the same Redis and prefix for fixtures and digests. Every warn/error line the server
 * logs is kept: an `error` line (e.g. "request failed" for a 5xx) is a finding.
 */
export type FuzzServer = {
  ctx: AppContext;
  proc: Spawned;
  port: number;
  url: string;
  logLines: () => { level: number; msg: string; line: string }[];
  close: () => Promise<void>;
};

export async function fuzzServer(redisUrl: string, prefix: string, env: Record<string, string>): Promise<FuzzServer> {
  const proc = spawnScript('tests/helpers/fuzz-server.entry.ts', [], processEnv(redisUrl, prefix, { PORT: '0', LOG_LEVEL: 'warn', ...env }));
  const m = await proc.waitFor(/fuzz server listening on (\d+)/, 60_000).catch(async (err: unknown) => {
    proc.child.kill('SIGKILL');
    await proc.exited;
    throw err;
  });
  const port = Number(m[1]);
  const ctx = faultContext(redisUrl, prefix, env);
  return {
    ctx,
    proc,
    port,
    url: `http://127.0.0.1:${port}`,
    logLines: () =>
      proc
        .output()
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((line) => {
          try {
            const o = JSON.parse(line) as { level: number; msg: string };
            return { level: o.level, msg: o.msg, line: line.slice(0, 2000) };
          } catch {
            return { level: 60, msg: 'unparsable log line', line: line.slice(0, 2000) };
          }
        }),
    async close() {
      if (proc.child.exitCode === null && proc.child.signalCode === null) {
        proc.child.kill('SIGTERM');
        const t = setTimeout(() => proc.child.kill('SIGKILL'), 10_000);
        await proc.exited;
        clearTimeout(t);
      }
      await ctx.close();
    },
  };
}

export type RawRequest = {
  method: string;
  target: string;
  headers: [string, string][];
  body?: Buffer;
  /** Send the body with `transfer-encoding: chunked` in pieces of this size (no Content-Length). */
  chunkSize?: number;
};
export type RawResponse = { status: number; headers: Record<string, string>; body: Buffer; ms: number };

/**
 * A minimal HTTP/1.1 keep-alive client over one TCP connection (requests in sequence). Raw on purpose:
 * the request target and body are sent byte for byte (broken percent-encodings, GET bodies, a
 * Content-Encoding that lies), which `fetch` refuses to send. Responses are framed by Content-Length or
 * chunked encoding; a closed connection fails the pending request (status 0) and the next call reconnects.
 */
export function rawConnection(port: number, host = '127.0.0.1') {
  let sock: NetSocket | null = null;
  let buf: Buffer = Buffer.alloc(0);
  let pending: { resolve: (r: RawResponse) => void; t0: number } | null = null;

  const fail = (why: string) => {
    const p = pending;
    pending = null;
    sock = null;
    buf = Buffer.alloc(0);
    p?.resolve({ status: 0, headers: { error: why }, body: Buffer.alloc(0), ms: 0 });
  };

  const tryParse = () => {
    if (!pending) return;
    const he = buf.indexOf('\r\n\r\n');
    if (he < 0) return;
    const lines = buf.subarray(0, he).toString('latin1').split('\r\n');
    const status = Number(lines[0].slice(9, 12));
    const headers: Record<string, string> = {};
    for (const l of lines.slice(1)) {
      const i = l.indexOf(':');
      if (i > 0) headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
    }
    let body: Buffer;
    let rest: Buffer;
    if (headers['transfer-encoding']?.includes('chunked')) {
      const chunks: Buffer[] = [];
      let at = he + 4;
      for (;;) {
        const le = buf.indexOf('\r\n', at);
        if (le < 0) return;
        const size = parseInt(buf.subarray(at, le).toString('latin1'), 16);
        if (buf.length < le + 2 + size + 2) return;
        if (size === 0) {
          at = le + 4;
          break;
        }
        chunks.push(buf.subarray(le + 2, le + 2 + size));
        at = le + 2 + size + 2;
      }
      body = Buffer.concat(chunks);
      rest = buf.subarray(at);
    } else {
      const len = Number(headers['content-length'] ?? 0);
      if (buf.length < he + 4 + len) return;
      body = buf.subarray(he + 4, he + 4 + len);
      rest = buf.subarray(he + 4 + len);
    }
    buf = Buffer.from(rest);
    const p = pending;
    pending = null;
    p.resolve({ status, headers, body, ms: performance.now() - p.t0 });
    if (headers.connection === 'close') {
      sock?.destroy();
      sock = null;
    }
  };

  const open = () => {
    const s = connect(port, host);
    s.setNoDelay(true);
    s.on('data', (d: Buffer) => {
      buf = buf.length ? Buffer.concat([buf, d]) : d;
      tryParse();
    });
    s.on('error', () => {});
    s.on('close', () => {
      if (sock === s) fail('connection closed');
    });
    sock = s;
    return s;
  };

  return {
    send(req: RawRequest): Promise<RawResponse> {
      if (pending) throw new Error('rawConnection: one request at a time');
      const s = sock ?? open();
      return new Promise<RawResponse>((resolve) => {
        pending = { resolve, t0: performance.now() };
        let body = req.body ?? Buffer.alloc(0);
        let head = `${req.method} ${req.target} HTTP/1.1\r\nhost: 127.0.0.1\r\n`;
        if (req.body !== undefined && req.chunkSize) {
          head += 'transfer-encoding: chunked\r\n';
          const parts: Buffer[] = [];
          for (let at = 0; at < body.length; at += req.chunkSize) {
            const piece = body.subarray(at, at + req.chunkSize);
            parts.push(Buffer.from(`${piece.length.toString(16)}\r\n`, 'latin1'), piece, Buffer.from('\r\n', 'latin1'));
          }
          body = Buffer.concat([...parts, Buffer.from('0\r\n\r\n', 'latin1')]);
        } else if (req.body !== undefined) head += `content-length: ${body.length}\r\n`;
        for (const [k, v] of req.headers) head += `${k}: ${v}\r\n`;
        s.write(Buffer.concat([Buffer.from(`${head}\r\n`, 'latin1'), body]));
      });
    },
    close() {
      sock?.destroy();
      sock = null;
    },
  };
}

/** `n` keep-alive connections; `run` sends every item `next()` yields (undefined: done) with at most `n` in flight. */
export function rawPool(port: number, n: number) {
  const conns = Array.from({ length: n }, () => rawConnection(port));
  return {
    async run<T>(next: () => Promise<T | undefined>, toReq: (item: T) => RawRequest, onResponse: (item: T, res: RawResponse) => void): Promise<void> {
      await Promise.all(
        conns.map(async (c) => {
          for (;;) {
            const item = await next();
            if (item === undefined) return;
            onResponse(item, await c.send(toReq(item)));
          }
        }),
      );
    },
    close() {
      for (const c of conns) c.close();
    },
  };
}

/** A fixed list as a `next()` source. */
export function fromList<T>(items: T[]): () => Promise<T | undefined> {
  let i = 0;
  return async () => items[i++];
}
