import { fail, redirect } from '@sveltejs/kit';
import { serverApi } from '$lib/server/api.ts';
import type { NotificationList } from '$shared/notifications.ts';
import type { Actions, PageServerLoad } from './$types';

export const load = (async (event) => {
  if (!event.locals.user) redirect(303, '/signin?next=/notifications');
  const limit = Math.min(100, Math.max(20, Number(event.url.searchParams.get('limit')) || 20));
  const r = await serverApi(event)<NotificationList>(`/me/notifications?limit=${limit}`);
  return { list: r.ok ? r.data : null, limit, error: r.ok ? null : r.error.code };
}) satisfies PageServerLoad;

export const actions = {
  readAll: async (event) => {
    const r = await serverApi(event)('/me/notifications/read', { method: 'POST', body: { all: true } });
    if (!r.ok) return fail(r.status, { error: r.error.code });
    return { error: null };
  },
} satisfies Actions;
