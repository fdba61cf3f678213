import { redirect } from '@sveltejs/kit';
import { failLoad, pollIdParam, serverApi } from '$lib/server/api.ts';
import { builderData, saveDraft } from '$lib/server/builder.ts';
import { pollToDraft } from '$lib/builder.ts';
import type { PollView } from '$shared/values/polls.ts';
import type { Actions, PageServerLoad } from './$types';

/** Editing a draft in the builder (a published poll cannot change: back to its dashboard). */
export const load = (async (event) => {
  const id = pollIdParam(event.params.id);
  const r = await serverApi(event)<PollView>(`/polls/${id}`);
  if (!r.ok) failLoad(r);
  const { poll } = r.data;
  if (poll.status !== 'draft') redirect(303, `/moderate/${id}`);
  return { ...builderData(), poll, draft: pollToDraft(poll, Date.now()) };
}) satisfies PageServerLoad;

export const actions = { default: (event) => saveDraft(event, pollIdParam(event.params.id)) } satisfies Actions;
