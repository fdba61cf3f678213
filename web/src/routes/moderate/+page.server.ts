import { serverApi } from '$lib/server/api.ts';
import { toPollList } from '$lib/polls.ts';
import type { PageServerLoad } from './$types';

const SECTIONS = ['active', 'upcoming', 'draft', 'closed'] as const;

export const load = (async (event) => {
  const api = serverApi(event);
  const lists = await Promise.all(SECTIONS.map(async (s) => {
    const r = await api<unknown>(`/polls?status=${s}`);
    return { status: s, polls: r.ok ? toPollList(r.data) : [] };
  }));
  return { sections: lists };
}) satisfies PageServerLoad;
