import { redirect } from '@sveltejs/kit';
import { serverApi } from '$lib/server/api.ts';
import type { MyPoints } from '$shared/points.ts';
import type { PageServerLoad } from './$types';

export const load = (async (event) => {
  if (!event.locals.user) redirect(303, '/signin?next=/points');
  const r = await serverApi(event)<MyPoints>('/me/points?limit=50');
  return { points: r.ok ? r.data : null, error: r.ok ? null : r.error.code };
}) satisfies PageServerLoad;
