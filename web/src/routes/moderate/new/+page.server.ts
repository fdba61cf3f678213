import { fail, redirect } from '@sveltejs/kit';
import { serverApi } from '$lib/server/api.ts';
import { DISTRICTS } from '$shared/districts.ts';
import { draftFromForm, draftIssues, draftToBody, emptyDraft } from '$lib/builder.ts';
import type { Actions, PageServerLoad } from './$types';

export const load = (async (event) => {
  return { districts: DISTRICTS, draft: emptyDraft(Date.now()) };
}) satisfies PageServerLoad;

type Detail = { path?: string; message?: string };

export const actions = {
  default: async (event) => {
    const form = await event.request.formData();
    const draft = draftFromForm(form);
    const publish = form.get('intent') === 'publish';
    const issues = draftIssues(draft);
    if (Object.keys(issues).length) return fail(400, { draft, issues, error: null as string | null, details: [] as Detail[] });
    const api = serverApi(event);
    const created = await api<{ id: number }>('/polls', { method: 'POST', body: draftToBody(draft) });
    if (!created.ok) {
      const details = Array.isArray(created.error.details) ? (created.error.details as Detail[]) : [];
      return fail(created.status, { draft, issues, error: created.error.code, details });
    }
    const id = created.data.id;
    if (publish) {
      const p = await api(`/polls/${id}/publish`, { method: 'POST' });
      if (!p.ok) redirect(303, `/moderate/${id}?error=${encodeURIComponent(p.error.code)}`);
      redirect(303, `/moderate/${id}?published`);
    }
    redirect(303, `/moderate/${id}`);
  },
} satisfies Actions;
