import { redirect } from '@sveltejs/kit';
import { serverApi } from '$lib/server/api.ts';
import type { Actions, PageServerLoad } from './$types';

export const load = (async () => redirect(303, '/')) satisfies PageServerLoad;

export const actions = {
  default: async (event) => {
    await serverApi(event)('/auth/logout', { method: 'POST' });
    event.cookies.delete('ac_sid', { path: '/' });
    redirect(303, '/');
  },
} satisfies Actions;
