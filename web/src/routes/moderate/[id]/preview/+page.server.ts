import { failLoad, pollIdParam, serverApi } from '$lib/server/api.ts';
import type { PollView } from '$shared/values/polls.ts';
import type { PageServerLoad } from './$types';

/** A draft (or any poll) as a resident will see it, with a voting form that sends nothing. */
export const load = (async (event) => {
  const id = pollIdParam(event.params.id);
  const r = await serverApi(event)<PollView>(`/polls/${id}`);
  if (!r.ok) failLoad(r);
  return { poll: r.data.poll };
}) satisfies PageServerLoad;
