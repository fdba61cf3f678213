import { redirect } from '@sveltejs/kit';
import { pollIdParam } from '$lib/server/api.ts';
import type { PageServerLoad } from './$types';

/** The projector's short address: `/p/<join code>` opens the poll. */
export const load = (async (event) => {
  redirect(307, `/polls/${pollIdParam(event.params.id)}`);
}) satisfies PageServerLoad;
