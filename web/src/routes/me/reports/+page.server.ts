import { redirect } from '@sveltejs/kit';
import { serverApi } from '$lib/server/api.ts';
import { loadCatalogue } from '$lib/server/city.ts';
import type { ReportPage } from '$shared/city.ts';
import type { PageServerLoad } from './$types';

/** Reports the resident filed or supports, newest first. */
export const load = (async (event) => {
  if (!event.locals.user) redirect(303, '/signin?next=/me/reports');
  const api = serverApi(event);
  const page = Math.max(1, Math.min(10_000, Number(event.url.searchParams.get('page')) || 1));
  const [catalogue, mine] = await Promise.all([loadCatalogue(api), api<ReportPage>(`/city/my/reports?page=${page}&pageSize=20`)]);
  return { catalogue, page, mine: mine.ok ? mine.data : null, error: mine.ok ? null : mine.error.code };
}) satisfies PageServerLoad;
