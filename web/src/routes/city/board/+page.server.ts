import { serverApi } from '$lib/server/api.ts';
import type { Board } from '$shared/city-lists.ts';
import type { PageServerLoad } from './$types';

const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** The accountability board: per organisation or per district, for a period (the API defaults to the last 90 days). */
export const load = (async (event) => {
  const sp = event.url.searchParams;
  const by = sp.get('by') === 'district' ? 'district' : 'organisation';
  const q = new URLSearchParams({ by });
  for (const k of ['from', 'to'] as const) {
    const v = sp.get(k) ?? '';
    if (DATE.test(v)) q.set(k, v);
  }
  const okrug = sp.get('okrug') ?? '';
  if (okrug) q.set('okrug', okrug);
  const r = await serverApi(event)<Board>(`/city/board?${q}`);
  return { by, okrug, board: r.ok ? r.data : null, error: r.ok ? null : r.error.code };
}) satisfies PageServerLoad;
