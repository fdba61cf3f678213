import { error, redirect } from '@sveltejs/kit';
import type { LayoutServerLoad } from './$types';

/** Moderator pages: the server checks roles on every API call; this only keeps others out of the UI. */
export const load = (async ({ locals, url }) => {
  if (!locals.user) redirect(303, `/signin?next=${encodeURIComponent(url.pathname)}`);
  if (!locals.user.roles.some((r) => r === 'moderator' || r === 'admin')) error(403, { message: 'forbidden', code: 'forbidden' });
  return {};
}) satisfies LayoutServerLoad;
