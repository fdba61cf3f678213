import { fail, redirect } from '@sveltejs/kit';
import { failLoad, pollIdParam, serverApi } from '$lib/server/api.ts';
import { draftToBody, pollToDraft } from '$lib/builder.ts';
import { DISTRICTS, OKRUGS } from '$shared/districts.ts';
import type { PollRate, PollView } from '$shared/values/polls.ts';
import type { Actions, PageServerLoad } from './$types';

export const load = (async (event) => {
  const id = pollIdParam(event.params.id);
  const api = serverApi(event);
  const [r, rate] = await Promise.all([api<PollView>(`/polls/${id}`), api<PollRate>(`/polls/${id}/rate?minutes=15`)]);
  if (!r.ok) failLoad(r);
  return {
    poll: r.data.poll,
    results: r.data.results,
    eligibleResidents: r.data.eligibleResidents,
    rate: rate.ok ? rate.data : null,
    districts: DISTRICTS,
    okrugs: OKRUGS,
    published: event.url.searchParams.has('published'),
    saved: event.url.searchParams.has('saved'),
    error: event.url.searchParams.get('error'),
  };
}) satisfies PageServerLoad;

const act = (what: 'publish' | 'close') =>
  (async (event) => {
    const id = pollIdParam(event.params.id);
    const r = await serverApi(event)(`/polls/${id}/${what}`, { method: 'POST' });
    if (!r.ok) return fail(r.status, { error: r.error.code });
    redirect(303, `/moderate/${id}${what === 'publish' ? '?published' : ''}`);
  }) satisfies Actions[string];

export const actions = {
  publish: act('publish'),
  close: act('close'),
  /** A new draft with this poll's questions and audience, scheduled from now, opened in the builder. */
  duplicate: async (event) => {
    const id = pollIdParam(event.params.id);
    const api = serverApi(event);
    const r = await api<PollView>(`/polls/${id}`);
    if (!r.ok) return fail(r.status, { error: r.error.code });
    const copy = await api<{ id: number }>('/polls', { method: 'POST', body: draftToBody(pollToDraft(r.data.poll, Date.now(), true)) });
    if (!copy.ok) return fail(copy.status, { error: copy.error.code });
    redirect(303, `/moderate/${copy.data.id}/edit`);
  },
  /** Delete a draft (the API refuses anything published). */
  delete: async (event) => {
    const id = pollIdParam(event.params.id);
    const r = await serverApi(event)(`/polls/${id}`, { method: 'DELETE' });
    if (!r.ok) return fail(r.status, { error: r.error.code });
    redirect(303, '/moderate?deleted');
  },
} satisfies Actions;
