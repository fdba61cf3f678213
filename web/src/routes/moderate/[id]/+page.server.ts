import { fail, redirect } from '@sveltejs/kit';
import { failLoad, pollIdParam, serverApi } from '$lib/server/api.ts';
import { toPollView } from '$lib/polls.ts';
import { toDistricts } from '$lib/districts.ts';
import type { PollResults } from '$shared/polls.ts';
import type { Actions, PageServerLoad } from './$types';

export const load = (async (event) => {
  const id = pollIdParam(event.params.id);
  const api = serverApi(event);
  const [r, d] = await Promise.all([api<{ results?: PollResults | null }>(`/polls/${id}`), api<unknown>('/districts')]);
  if (!r.ok) failLoad(r);
  return {
    poll: toPollView(r.data),
    results: r.data.results ?? null,
    districts: d.ok ? toDistricts(d.data) : [],
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
