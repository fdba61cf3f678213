import { serverApi } from '$lib/server/api.ts';
import type { ArchivePage } from '$shared/archive.ts';
import type { PageServerLoad } from './$types';

export const load = (async (event) => {
  const q = (event.url.searchParams.get('q') ?? '').slice(0, 200);
  const page = Math.max(1, Math.min(10_000, Number(event.url.searchParams.get('page')) || 1));
  const r = await serverApi(event)<ArchivePage>(`/archive?${new URLSearchParams({ q, page: String(page), pageSize: '20' })}`);
  return { q, page, archive: r.ok ? r.data : null, error: r.ok ? null : r.error.code };
}) satisfies PageServerLoad;
