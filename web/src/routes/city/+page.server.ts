import { serverApi } from '$lib/server/api.ts';
import { loadCatalogue } from '$lib/server/city.ts';
import type { ReportPage } from '$shared/city-lists.ts';
import type { PageServerLoad } from './$types';

/** The list's filters as the URL carries them (one value each here; the API also takes comma lists). */
const FILTERS = ['district', 'okrug', 'category', 'status', 'organisation', 'overdue', 'q'] as const;
export type ListFilters = Record<(typeof FILTERS)[number], string>;

export const load = (async (event) => {
  const api = serverApi(event);
  const filters = Object.fromEntries(FILTERS.map((f) => [f, event.url.searchParams.get(f)?.trim() ?? ''])) as ListFilters;
  const page = Math.max(1, Math.min(10_000, Number(event.url.searchParams.get('page')) || 1));
  const q = new URLSearchParams({ page: String(page), pageSize: '20' });
  for (const f of FILTERS) if (filters[f]) q.set(f, filters[f]);
  const [catalogue, list] = await Promise.all([loadCatalogue(api), api<ReportPage>(`/city/reports?${q}`)]);
  // a filter value the API refuses (a typo'd district in a shared link) shows the empty list with a note, not an error page
  return { catalogue, filters, page, list: list.ok ? list.data : null, listError: list.ok ? null : list.error.code };
}) satisfies PageServerLoad;
