import { fail, redirect } from '@sveltejs/kit';
import { serverApi } from '$lib/server/api.ts';
import { loadCatalogue, multipartOf } from '$lib/server/city.ts';
import type { Report } from '$shared/city.ts';
import type { Actions, PageServerLoad } from './$types';

const FIELDS = ['category', 'district', 'address', 'description', 'lat', 'lng'] as const;

export const load = (async (event) => {
  if (!event.locals.user) redirect(303, `/signin?next=${encodeURIComponent('/city/report/new')}`);
  return { catalogue: await loadCatalogue(serverApi(event)), homeDistrict: event.locals.user.district ?? '' };
}) satisfies PageServerLoad;

export const actions = {
  /** Files the report with its photos as one multipart request: the API stores all of it or nothing. */
  default: async (event) => {
    if (!event.locals.user) redirect(303, '/signin?next=/city/report/new');
    const { body, values } = multipartOf(await event.request.formData(), FIELDS);
    const r = await serverApi(event)<Report>('/city/reports', { method: 'POST', body });
    if (r.ok) redirect(303, `/city/reports/${r.data.id}?sent`);
    const details = (r.error.details ?? {}) as { reportId?: number };
    const fields: Record<string, string> = {};
    for (const d of Array.isArray(r.error.details) ? (r.error.details as { path?: string }[]) : []) if (d.path) fields[String(d.path)] = r.error.code;
    return fail(r.status, {
      values,
      error: r.error.code,
      fields,
      duplicateId: r.error.code === 'duplicate' && typeof details.reportId === 'number' ? details.reportId : null,
    });
  },
} satisfies Actions;
