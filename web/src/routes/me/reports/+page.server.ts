import { fail, redirect } from '@sveltejs/kit';
import { serverApi } from '$lib/server/api.ts';
import { loadCatalogue } from '$lib/server/city.ts';
import type { AreaAlerts, ReportPage } from '$shared/city-lists.ts';
import type { Actions, PageServerLoad } from './$types';

/** Reports the resident filed or supports, newest first. */
export const load = (async (event) => {
  if (!event.locals.user) redirect(303, '/signin?next=/me/reports');
  const api = serverApi(event);
  const page = Math.max(1, Math.min(10_000, Number(event.url.searchParams.get('page')) || 1));
  const [catalogue, mine, alerts] = await Promise.all([
    loadCatalogue(api),
    api<ReportPage>(`/city/my/reports?page=${page}&pageSize=20`),
    api<AreaAlerts>('/city/my/alerts'),
  ]);
  return { catalogue, page, mine: mine.ok ? mine.data : null, error: mine.ok ? null : mine.error.code, alerts: alerts.ok ? alerts.data : null };
}) satisfies PageServerLoad;

export const actions = {
  alerts: async (event) => {
    if (!event.locals.user) redirect(303, '/signin?next=/me/reports');
    const f = await event.request.formData();
    const body = { districts: f.getAll('districts').map(String), categories: f.getAll('categories').map(String) };
    const r = await serverApi(event)('/city/my/alerts', { method: 'PUT', body });
    if (!r.ok) return fail(r.status, { kind: 'alerts', error: r.error.code, done: false });
    return { kind: 'alerts', error: null, done: true };
  },
} satisfies Actions;
