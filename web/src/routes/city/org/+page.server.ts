import { serverApi } from '$lib/server/api.ts';
import { loadCatalogue } from '$lib/server/city.ts';
import { requireRole } from '$lib/server/city-staff.ts';
import { QUEUE_DEP } from '$lib/city/live.svelte.ts';
import type { ReportPage } from '$shared/city-lists.ts';
import type { PageServerLoad } from './$types';

/** The responder's inbox: reports routed to their organisations, nearest deadline first (officials and admins see all). */
export const load = (async (event) => {
  requireRole(event.locals, event.url, ['responder', 'official', 'admin']);
  event.depends(QUEUE_DEP);
  const api = serverApi(event);
  const page = Math.max(1, Math.min(10_000, Number(event.url.searchParams.get('page')) || 1));
  const [catalogue, inbox] = await Promise.all([loadCatalogue(api), api<ReportPage>(`/city/inbox?page=${page}&pageSize=50`)]);
  return { catalogue, page, inbox: inbox.ok ? inbox.data : null, error: inbox.ok ? null : inbox.error.code };
}) satisfies PageServerLoad;
