import { error, fail, redirect } from '@sveltejs/kit';
import { serverApi } from '$lib/server/api.ts';
import { toPollView } from '$lib/polls.ts';
import { toDistricts } from '$lib/districts.ts';
import type { PollResults } from '$shared/polls.ts';
import type { Actions, PageServerLoad } from './$types';

const idOf = (raw: string) => {
  const id = Number(raw);
  if (!Number.isSafeInteger(id) || id <= 0) error(404, { message: 'not_found', code: 'not_found' });
  return id;
};

export const load = (async (event) => {
  const id = idOf(event.params.id);
  const api = serverApi(event);
  const [r, d] = await Promise.all([api<{ results?: PollResults | null }>(`/polls/${id}`), api<unknown>('/districts')]);
  if (!r.ok) error(r.status === 400 ? 404 : r.status, { message: r.error.code, code: r.error.code });
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
    const id = idOf(event.params.id);
    const r = await serverApi(event)(`/polls/${id}/${what}`, { method: 'POST' });
    if (!r.ok) return fail(r.status, { error: r.error.code });
    redirect(303, `/moderate/${id}${what === 'publish' ? '?published' : ''}`);
  }) satisfies Actions[string];

export const actions = { publish: act('publish'), close: act('close') } satisfies Actions;
