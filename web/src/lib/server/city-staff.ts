import { error, redirect } from '@sveltejs/kit';
import type { Role } from '$shared/users.ts';

/**
 * Keeps the wrong people out of a staff page's UI. The API checks the role on every call anyway; this only
 * decides between the sign-in redirect, the 403 page and the page.
 */
export function requireRole(locals: App.Locals, url: URL, roles: readonly Role[]): void {
  if (!locals.user) redirect(303, `/signin?next=${encodeURIComponent(url.pathname)}`);
  if (!locals.user.roles.some((r) => roles.includes(r))) error(403, { message: 'forbidden', code: 'forbidden' });
}
