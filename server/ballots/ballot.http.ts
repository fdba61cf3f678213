import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AppContext } from '../context.ts';
import { AppError, errorBody, isBug, toAppError } from '../errors.ts';
import { resolveSession } from '../auth/auth.middleware.ts';
import { originRefusal } from '../http/origin.middleware.ts';
import { jsonDepthExceeds, tooDeepBody } from '../json-depth.ts';

const PATH = /^\/api\/polls\/([1-9][0-9]{0,14})\/ballots$/;
const JSON_TYPES = new Set(['application/json', 'application/json; charset=utf-8', 'application/json;charset=utf-8']);
/** The API's body limit (express.json in server/app.ts). */
const MAX_BODY = 64 * 1024;
const ROUTE = '/api/polls/:id/ballots';

/**
 * `POST /api/polls/:id/ballots` without Express: the hot path of the platform. It takes only the plain
 * shape of the request — that path with no query, a JSON content type, a Content-Length within the API's
 * body limit, no content encoding — and leaves every other request (odd bodies, chunked uploads, errors
 * Express maps) to the Express app, so both answer alike. The same rules run here as there: the origin
 * check (server/http/origin.middleware.ts), the session (resolveSession, with the short in-process
 * cache), the ballot service. No per-request logger, request id or duration histogram: one counter.
 * Returns false when the request is not taken.
 */
export function createBallotRoute(ctx: Pick<AppContext, 'config' | 'logger' | 'metrics' | 'ballots' | 'sessions' | 'users' | 'sessionCache'>) {
  const refusal = originRefusal(ctx.config.ALLOWED_ORIGINS);
  const counters = new Map<string, { inc: () => void }>();
  const count = (status: number) => {
    const cls = `${Math.floor(status / 100)}xx`;
    let c = counters.get(cls);
    if (!c) counters.set(cls, (c = ctx.metrics.httpRequests.labels({ method: 'POST', route: ROUTE, status: cls })));
    c.inc();
  };
  const send = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    const json = JSON.stringify(body);
    res.writeHead(status, { ...headers, 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(json), 'cache-control': 'no-store' });
    res.end(json);
    count(status);
  };
  const fail = (res: ServerResponse, err: unknown) => {
    const e = toAppError(err);
    if (isBug(e)) ctx.logger.error({ err, route: ROUTE }, 'request failed');
    send(res, e.status, errorBody(e), e.headers);
  };
  const readJson = (req: IncomingMessage, length: number) =>
    new Promise<unknown>((resolve, reject) => {
      const buf = Buffer.allocUnsafe(length);
      let at = 0;
      req.on('data', (chunk: Buffer) => {
        if (at + chunk.length > length) return reject(new AppError('bad_request', 'Malformed request'));
        chunk.copy(buf, at);
        at += chunk.length;
      });
      req.on('end', () => {
        if (at !== length) return reject(new AppError('bad_request', 'Malformed request'));
        // as express.json decodes it: UTF-8 with a leading BOM dropped; strict: an object or an array only
        // (the first character after JSON whitespace)
        let text = buf.toString('utf8');
        if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
        const first = /^[\x20\x09\x0a\x0d]*(.)/s.exec(text)?.[1];
        if (first !== '{' && first !== '[') return reject(new AppError('invalid_json', 'Request body is not valid JSON'));
        let body: unknown;
        try {
          body = JSON.parse(text);
        } catch {
          return reject(new AppError('invalid_json', 'Request body is not valid JSON'));
        }
        // and, as server/app.ts does after express.json, no deeper than any route reads
        if (jsonDepthExceeds(body)) return reject(tooDeepBody());
        resolve(body);
      });
      req.on('error', reject);
    });

  async function handle(req: IncomingMessage, res: ServerResponse, pollId: number, length: number) {
    try {
      // Express's order: the body parser, then the origin check, then the session
      const body = await readJson(req, length);
      const refused = refusal('POST', req.headers);
      if (refused) throw refused;
      const session = await resolveSession(ctx, req.headers.cookie, true);
      if (!session) throw new AppError('unauthenticated', 'Sign in first');
      send(res, 201, await ctx.ballots.cast(pollId, session.user, body));
    } catch (err) {
      if (!res.headersSent) fail(res, err);
    }
  }

  return (req: IncomingMessage, res: ServerResponse): boolean => {
    if (req.method !== 'POST') return false;
    const m = PATH.exec(req.url ?? '');
    if (!m) return false;
    const h = req.headers;
    const type = h['content-type']?.toLowerCase();
    const length = Number(h['content-length']);
    if (!type || !JSON_TYPES.has(type) || h['transfer-encoding'] || h['content-encoding'] || !(length > 0 && length <= MAX_BODY)) return false;
    void handle(req, res, Number(m[1]), length);
    return true;
  };
}
