import { fail } from '@sveltejs/kit';
import { serverApi, type ServerApi } from '$lib/server/api.ts';
import type { Role, User } from '$shared/values/users.ts';
import type { Actions, PageServerLoad } from './$types';

/** The roles an admin can toggle; `resident` is everyone's and always kept by the API. */
const GRANTABLE = ['moderator', 'official', 'admin'] as const satisfies readonly Role[];

/** `?q=` is a user id (up to 9 digits) or a phone number as people type it (`+7 999 123-45-67`). */
function lookupPath(q: string): string | null {
  const digits = q.replace(/[\s()-]/g, '');
  if (/^[1-9]\d{0,8}$/.test(digits)) return `/users/${digits}`;
  if (/^\+?\d{10,15}$/.test(digits)) return `/users?phone=${encodeURIComponent(q)}`;
  return null;
}

async function lookup(api: ServerApi, q: string): Promise<{ user: User | null; error: string | null }> {
  const path = lookupPath(q);
  if (!path) return { user: null, error: 'invalid_query' };
  const r = await api<{ user: User }>(path);
  return r.ok ? { user: r.data.user, error: null } : { user: null, error: r.error.code };
}

/** Admin: look a user up by phone or id (a GET form, so it works without JavaScript), then set their roles. */
export const load = (async (event) => {
  const q = (event.url.searchParams.get('q') ?? '').trim().slice(0, 40);
  const found = q ? await lookup(serverApi(event), q) : { user: null, error: null };
  return { q, found: found.user, lookupError: found.error, grantable: GRANTABLE };
}) satisfies PageServerLoad;

export const actions = {
  roles: async (event) => {
    const f = await event.request.formData();
    const id = Number(f.get('id'));
    if (!Number.isSafeInteger(id) || id <= 0) return fail(400, { error: 'invalid_params', user: null as User | null, saved: false });
    const picked = new Set(f.getAll('roles').map(String));
    const roles: Role[] = ['resident', ...GRANTABLE.filter((r) => picked.has(r))];
    const r = await serverApi(event)<{ user: User }>(`/users/${id}/roles`, { method: 'PUT', body: { roles } });
    if (!r.ok) return fail(r.status, { error: r.error.code, user: null as User | null, saved: false });
    return { error: null, user: r.data.user, saved: true };
  },
} satisfies Actions;
