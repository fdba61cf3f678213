import { error, type Cookies, type RequestEvent } from '@sveltejs/kit';
import { env } from '$env/dynamic/private';
import type { ApiError, ApiResult } from '$lib/api.ts';

/**
 * The API as seen from the SvelteKit handler, which runs inside the Express process that serves /api.
 * SvelteKit's own `fetch` would route a same-origin `/api/...` into SvelteKit (404), so this calls the
 * process's own listener over loopback with the browser's cookie and an allowed Origin.
 */
function apiBase(event: Pick<RequestEvent, 'url'>): string {
  const port = Number(env.PORT);
  if (Number.isInteger(port) && port > 0) {
    const host = !env.HOST || env.HOST === '0.0.0.0' || env.HOST === '::' ? '127.0.0.1' : env.HOST.includes(':') ? `[${env.HOST}]` : env.HOST;
    return `http://${host}:${port}`;
  }
  return event.url.origin;
}

/** `body` is sent as JSON, except a FormData (photo uploads), which goes as multipart with its own boundary. */
type Init = { method?: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE'; body?: unknown };

export type ServerApi = <T>(path: string, init?: Init) => Promise<ApiResult<T>>;

/** A typed API caller bound to one request: forwards its cookie, and the API's Set-Cookie back to the browser. */
export function serverApi(event: Pick<RequestEvent, 'url' | 'request' | 'cookies' | 'getClientAddress'>): ServerApi {
  return async <T>(path: string, init: Init = {}): Promise<ApiResult<T>> => {
    const headers: Record<string, string> = { accept: 'application/json', origin: event.url.origin };
    const cookie = event.request.headers.get('cookie');
    if (cookie) headers.cookie = cookie;
    const lang = event.request.headers.get('accept-language');
    if (lang) headers['accept-language'] = lang;
    try {
      headers['x-forwarded-for'] = event.getClientAddress();
    } catch {
      /* not available (e.g. prerender) */
    }
    const multipart = init.body instanceof FormData;
    if (init.body !== undefined && !multipart) headers['content-type'] = 'application/json';
    let res: Response;
    try {
      res = await fetch(apiBase(event) + '/api' + path, {
        method: init.method ?? 'GET',
        headers,
        body: init.body === undefined ? undefined : multipart ? (init.body as FormData) : JSON.stringify(init.body),
        redirect: 'manual',
      });
    } catch {
      return { ok: false, status: 503, error: { code: 'unavailable', message: 'API unreachable' } };
    }
    forwardSetCookie(res, event.cookies);
    const text = await res.text();
    let json: unknown = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      json = null;
    }
    if (res.ok) return { ok: true, status: res.status, data: json as T };
    const err = (json as { error?: { code?: string; message?: string; details?: unknown } } | null)?.error;
    return {
      ok: false,
      status: res.status,
      error: { code: err?.code ?? (res.status === 404 ? 'not_found' : 'internal'), message: err?.message ?? res.statusText, details: err?.details },
    };
  };
}

/** Copies the API's Set-Cookie headers (session cookie on sign-in, cleared on sign-out) onto the page response. */
function forwardSetCookie(res: Response, cookies: Cookies): void {
  for (const line of res.headers.getSetCookie()) {
    const [pair, ...attrs] = line.split(';').map((s) => s.trim());
    const i = pair.indexOf('=');
    if (i < 1) continue;
    const name = pair.slice(0, i);
    const value = decodeURIComponent(pair.slice(i + 1));
    const opts: Parameters<Cookies['set']>[2] = { path: '/', httpOnly: false, secure: false };
    for (const a of attrs) {
      const [k, v = ''] = a.split('=');
      switch (k.toLowerCase()) {
        case 'path': opts.path = v; break;
        case 'httponly': opts.httpOnly = true; break;
        case 'secure': opts.secure = true; break;
        case 'samesite': opts.sameSite = v.toLowerCase() as 'lax' | 'strict' | 'none'; break;
        case 'max-age': opts.maxAge = Number(v); break;
        case 'expires': opts.expires = new Date(v); break;
        case 'domain': opts.domain = v; break;
      }
    }
    cookies.set(name, value, opts as Parameters<Cookies['set']>[2] & { path: string });
  }
}

/** A poll id from a route parameter: anything but a positive integer is the 404 page. */
export function pollIdParam(raw: string): number {
  const id = Number(raw);
  if (!Number.isSafeInteger(id) || id <= 0) error(404, { message: 'not_found', code: 'not_found' });
  return id;
}

/** Ends a page load on a failed API read with that status (a 400 about the path's id reads as 404). */
export function failLoad(r: { status: number; error: ApiError }): never {
  error(r.status === 400 ? 404 : r.status, { message: r.error.code, code: r.error.code });
}
