import { serverApi } from '$lib/server/api.ts';
import type { PollListItem } from '$shared/values/polls.ts';
import type { PageServerLoad } from './$types';

const SECTIONS = ['active', 'upcoming', 'draft', 'closed'] as const;

export const load = (async (event) => {
  const api = serverApi(event);
  const lists = await Promise.all(SECTIONS.map(async (s) => {
    const r = await api<{ polls: PollListItem[] }>(`/polls?status=${s}`);
    return { status: s, polls: r.ok ? r.data.polls : [] };
  }));
  return { sections: lists };
}) satisfies PageServerLoad;
