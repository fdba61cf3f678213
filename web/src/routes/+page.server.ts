import { serverApi } from '$lib/server/api.ts';
import type { PollListItem } from '$shared/values/polls.ts';
import type { PageServerLoad } from './$types';

export const load = (async (event) => {
  const r = await serverApi(event)<{ polls: PollListItem[] }>('/polls?status=active');
  return { active: r.ok ? r.data.polls.slice(0, 6) : [] };
}) satisfies PageServerLoad;
