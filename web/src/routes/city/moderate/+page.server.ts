import { serverApi } from '$lib/server/api.ts';
import { loadCatalogue } from '$lib/server/city.ts';
import { requireRole } from '$lib/server/city-staff.ts';
import { QUEUE_DEP } from '$lib/city/live.svelte.ts';
import type { ReportPage } from '$shared/city-lists.ts';
import type { PageServerLoad } from './$types';

/** The moderation queue: submitted reports, oldest first, each with the organisation routing proposes. */
export const load = (async (event) => {
  requireRole(event.locals, event.url, ['moderator', 'admin']);
  event.depends(QUEUE_DEP);
  const api = serverApi(event);
  const filters = { district: event.url.searchParams.get('district') ?? '', category: event.url.searchParams.get('category') ?? '' };
  const page = Math.max(1, Math.min(10_000, Number(event.url.searchParams.get('page')) || 1));
  const q = new URLSearchParams({ page: String(page), pageSize: '50' });
  if (filters.district) q.set('district', filters.district);
  if (filters.category) q.set('category', filters.category);
  const [catalogue, queue] = await Promise.all([loadCatalogue(api), api<ReportPage>(`/city/queue?${q}`)]);
  return { catalogue, filters, page, queue: queue.ok ? queue.data : null, error: queue.ok ? null : queue.error.code };
}) satisfies PageServerLoad;
