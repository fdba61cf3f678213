import { redirect } from '@sveltejs/kit';
import { serverApi } from '$lib/server/api.ts';
import type { PollView } from '$shared/values/polls.ts';
import type { MyPoints } from '$shared/points.ts';
import type { PageServerLoad } from './$types';

export const load = (async (event) => {
  if (!event.locals.user) redirect(303, '/signin?next=/points');
  const api = serverApi(event);
  const r = await api<MyPoints>('/me/points?limit=50');
  // a vote's entry names its poll by title (the ledger keeps only the id)
  const ids = r.ok ? [...new Set(r.data.ledger.filter((e) => e.reason === 'vote').map((e) => e.ref))] : [];
  const polls = await Promise.all(ids.map((id) => api<PollView>(`/polls/${encodeURIComponent(id)}`)));
  const titles = Object.fromEntries(ids.flatMap((id, i) => { const p = polls[i]; return p.ok ? [[id, p.data.poll.title]] : []; }));
  return { points: r.ok ? r.data : null, titles, error: r.ok ? null : r.error.code };
}) satisfies PageServerLoad;
