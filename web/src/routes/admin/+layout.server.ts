import { error, redirect } from '@sveltejs/kit';
import type { LayoutServerLoad } from './$types';

/** Admin pages: the API checks the role on every call; this keeps others out of the UI. */
export const load = (async ({ locals, url }) => {
  if (!locals.user) redirect(303, `/signin?next=${encodeURIComponent(url.pathname)}`);
  if (!locals.user.roles.includes('admin')) error(403, { message: 'forbidden', code: 'forbidden' });
  return {};
}) satisfies LayoutServerLoad;
