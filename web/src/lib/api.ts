/**
 * The browser-side API client: same-origin fetch with the session cookie, typed results,
 * and the `{error:{code,message}}` body mapped to a translated message (see errorText).
 * Imports only types from `$shared` so no zod ships to the browser.
 */
export type ApiError = { code: string; message: string; details?: unknown };
export type ApiResult<T> = { ok: true; status: number; data: T } | { ok: false; status: number; error: ApiError };

export async function api<T>(path: string, init: { method?: string; body?: unknown; fetch?: typeof fetch } = {}): Promise<ApiResult<T>> {
  const f = init.fetch ?? fetch;
  let res: Response;
  try {
    res = await f('/api' + path, {
      method: init.method ?? 'GET',
      credentials: 'same-origin',
      headers: { accept: 'application/json', ...(init.body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
    });
  } catch {
    return { ok: false, status: 0, error: { code: 'network', message: 'Network error' } };
  }
  // a non-JSON body (a proxy's error page) reads as no body: the status below still says what happened
  const json = await res.json().catch(() => null);
  if (res.ok) return { ok: true, status: res.status, data: json as T };
  const err = (json as { error?: ApiError } | null)?.error;
  return { ok: false, status: res.status, error: { code: err?.code ?? 'internal', message: err?.message ?? res.statusText, details: err?.details } };
}
