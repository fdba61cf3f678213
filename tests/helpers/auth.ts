import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SESSION_COOKIE } from '../../server/auth/auth.middleware.ts';
import { TEST_ORIGIN } from './context.ts';

export type SentCode = { phone: string; code: string; contentType: string | undefined };

/**
 * A real local SMS-gateway stand-in for OTP_SENDER=webhook: a node:http server that records every
 * `{phone, code}` POSTed to it. `status` sets what it answers (e.g. 500 to simulate a broken gateway).
 */
export async function startCodeSink() {
  const received: SentCode[] = [];
  const waiters: { phone: string; res: (c: SentCode) => void }[] = [];
  let status = 204;
  const server = createServer(async (req: IncomingMessage, res) => {
    let body = '';
    for await (const chunk of req) body += chunk;
    try {
      const j = JSON.parse(body) as { phone: string; code: string };
      const sent = { phone: j.phone, code: j.code, contentType: req.headers['content-type'] };
      received.push(sent);
      for (const w of waiters.filter((w) => w.phone === j.phone)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.res(sent);
      }
    } catch {
      /* recorded nothing */
    }
    res.statusCode = status;
    res.end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/sms`;
  return {
    url,
    received,
    setStatus: (s: number) => void (status = s),
    /** The last code sent to `phone` (the webhook call completes before the API answers 202). */
    last(phone: string): string {
      const hit = [...received].reverse().find((r) => r.phone === phone);
      if (!hit) throw new Error(`no code was sent to ${phone}`);
      return hit.code;
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
export type CodeSink = Awaited<ReturnType<typeof startCodeSink>>;

export const jsonHeaders = (extra: Record<string, string> = {}) => ({ 'content-type': 'application/json', origin: TEST_ORIGIN, ...extra });

export function post(base: string, path: string, body: unknown, headers: Record<string, string> = jsonHeaders()) {
  return fetch(`${base}${path}`, { method: 'POST', headers, body: body === undefined ? undefined : JSON.stringify(body) });
}

/** The session id a response set, or null. */
export function sessionFrom(res: Response): string | null {
  for (const c of res.headers.getSetCookie()) {
    const m = new RegExp(`^${SESSION_COOKIE}=([^;]*)`).exec(c);
    if (m) return m[1] || null;
  }
  return null;
}

/** Full sign-in through the API (code request → code from the sink → verify); returns cookie headers. */
export async function signInThroughApi(base: string, sink: CodeSink, phone: string, extra: Record<string, string> = {}) {
  const r1 = await post(base, '/api/auth/otp', { phone }, jsonHeaders(extra));
  if (r1.status !== 202) throw new Error(`otp request: ${r1.status} ${await r1.text()}`);
  const { phone: e164 } = (await r1.json()) as { phone: string };
  const r2 = await post(base, '/api/auth/verify', { phone, code: sink.last(e164) }, jsonHeaders(extra));
  if (r2.status !== 200) throw new Error(`verify: ${r2.status} ${await r2.text()}`);
  const sid = sessionFrom(r2)!;
  const cookie = `${SESSION_COOKIE}=${sid}`;
  const { user } = (await r2.json()) as { user: { id: number; roles: string[] } };
  return { user, sid, cookie, headers: jsonHeaders({ cookie }) };
}
