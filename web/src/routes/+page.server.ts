import { serverApi } from '$lib/server/api.ts';
import { toPollList } from '$lib/polls.ts';
import type { PageServerLoad } from './$types';

export const load = (async (event) => {
  const r = await serverApi(event)<unknown>('/polls?status=active');
  return { active: r.ok ? toPollList(r.data).slice(0, 6) : [] };
}) satisfies PageServerLoad;
