import { fail, redirect, type RequestEvent } from '@sveltejs/kit';
import { serverApi } from './api.ts';
import { DISTRICTS, OKRUGS } from '$shared/districts.ts';
import { draftFromForm, draftIssues, draftToBody, type Draft } from '$lib/builder.ts';
import type { Key } from '$lib/i18n/index.ts';

type Detail = { path?: string; message?: string };

/** What the builder shows besides the draft: districts grouped by okrug. */
export function builderData() {
  return { districts: DISTRICTS, okrugs: OKRUGS };
}

/**
 * The builder's form action: checks the draft (errors per field), then creates it (`id` null) or
 * replaces the draft `id`, and publishes when asked. Redirects to the poll's dashboard.
 */
export async function saveDraft(event: RequestEvent, id: number | null) {
  const form = await event.request.formData();
  const draft: Draft = draftFromForm(form);
  const publish = form.get('intent') === 'publish';
  const issues: Record<string, Key> = draftIssues(draft);
  if (Object.keys(issues).length) return fail(400, { draft, issues, error: null as string | null, details: [] as Detail[] });
  const api = serverApi(event);
  const saved = id === null
    ? await api<{ id: number }>('/polls', { method: 'POST', body: draftToBody(draft) })
    : await api<{ id: number }>(`/polls/${id}`, { method: 'PATCH', body: draftToBody(draft) });
  if (!saved.ok) {
    const details = Array.isArray(saved.error.details) ? (saved.error.details as Detail[]) : [];
    return fail(saved.status, { draft, issues, error: saved.error.code, details });
  }
  const pid = saved.data.id;
  if (publish) {
    const p = await api(`/polls/${pid}/publish`, { method: 'POST' });
    if (!p.ok) redirect(303, `/moderate/${pid}?error=${encodeURIComponent(p.error.code)}`);
    redirect(303, `/moderate/${pid}?published`);
  }
  redirect(303, `/moderate/${pid}${id === null ? '' : '?saved'}`);
}
