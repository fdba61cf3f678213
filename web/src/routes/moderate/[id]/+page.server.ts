import { fail, redirect } from '@sveltejs/kit';
import { failLoad, pollIdParam, serverApi } from '$lib/server/api.ts';
import { DISTRICTS } from '$shared/districts.ts';
import type { PollView } from '$shared/values/polls.ts';
import type { Actions, PageServerLoad } from './$types';

export const load = (async (event) => {
  const id = pollIdParam(event.params.id);
  const api = serverApi(event);
  const r = await api<PollView>(`/polls/${id}`);
  if (!r.ok) failLoad(r);
  return {
    poll: r.data.poll,
    results: r.data.results,
    districts: DISTRICTS,
    published: event.url.searchParams.has('published'),
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

export const actions = { publish: act('publish'), close: act('close') } satisfies Actions;
