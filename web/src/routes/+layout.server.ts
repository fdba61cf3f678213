import { serverApi } from '$lib/server/api.ts';
import type { LayoutServerLoad } from './$types';

export const load = (async (event) => {
  const { locals } = event;
  let unread = 0;
  if (locals.user) {
    const r = await serverApi(event)<{ unread?: number; count?: number }>('/me/notifications/unread');
    if (r.ok) unread = r.data.unread ?? r.data.count ?? 0;
  }
  return { lang: locals.lang, user: locals.user, unread };
}) satisfies LayoutServerLoad;
