import { fail } from '@sveltejs/kit';
import { serverApi } from '$lib/server/api.ts';
import { requireRole } from '$lib/server/city-staff.ts';
import type { Category, Organisation, ResponderBinding } from '$shared/city.ts';
import type { Actions, PageServerLoad, RequestEvent } from './$types';

/**
 * The catalogue for admins: categories (names, organisation kind, deadline, active), organisations (names,
 * districts served, categories handled, active) and which organisations a responder answers for. Every form
 * is a plain POST (works without JavaScript); the API validates and checks the admin role.
 */
export const load = (async (event) => {
  requireRole(event.locals, event.url, ['admin']);
  const api = serverApi(event);
  const sp = event.url.searchParams;
  const district = sp.get('district') ?? '';
  const orgId = Number(sp.get('org')) || 0;
  const userId = Number(sp.get('user')) || 0;
  const [cats, orgs, binding] = await Promise.all([
    api<{ items: Category[] }>('/city/categories'),
    api<{ items: Organisation[] }>(`/city/organisations${district ? `?district=${encodeURIComponent(district)}` : ''}`),
    userId > 0 ? api<ResponderBinding>(`/city/responders/${userId}`) : Promise.resolve(null),
  ]);
  const organisations = orgs.ok ? orgs.data.items : [];
  return {
    district,
    categories: cats.ok ? cats.data.items : [],
    organisations,
    editing: organisations.find((o) => o.id === orgId) ?? null,
    userId,
    binding: binding?.ok ? binding.data : null,
    bindingError: binding && !binding.ok ? binding.error.code : null,
  };
}) satisfies PageServerLoad;

const s = (f: FormData, k: string) => String(f.get(k) ?? '').trim();
const list = (f: FormData, k: string) => f.getAll(k).map(String).flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean);

async function send(event: RequestEvent, kind: string, path: string, method: 'POST' | 'PATCH' | 'PUT', body: unknown) {
  const r = await serverApi(event)(path, { method, body });
  if (!r.ok) return fail(r.status, { kind, error: r.error.code, done: false });
  return { kind, error: null, done: true };
}

export const actions = {
  category: async (event) => {
    const f = await event.request.formData();
    const body = { name: { ru: s(f, 'nameRu'), en: s(f, 'nameEn') }, orgKind: s(f, 'orgKind'), deadlineDays: Number(s(f, 'deadlineDays')), active: f.get('active') === 'on' };
    const code = s(f, 'code');
    return f.get('create') ? send(event, 'category', '/city/categories', 'POST', { code, ...body }) : send(event, 'category', `/city/categories/${encodeURIComponent(code)}`, 'PATCH', body);
  },
  organisation: async (event) => {
    const f = await event.request.formData();
    const body = { name: { ru: s(f, 'nameRu'), en: s(f, 'nameEn') }, kind: s(f, 'kind'), districts: list(f, 'districts'), categories: list(f, 'categories'), active: f.get('active') === 'on' };
    return f.get('create')
      ? send(event, 'organisation', '/city/organisations', 'POST', { slug: s(f, 'slug'), ...body })
      : send(event, 'organisation', `/city/organisations/${Number(s(f, 'id'))}`, 'PATCH', body);
  },
  responder: async (event) => {
    const f = await event.request.formData();
    const organisationIds = list(f, 'organisationIds').map(Number);
    return send(event, 'responder', `/city/responders/${Number(s(f, 'userId'))}`, 'PUT', { organisationIds });
  },
} satisfies Actions;
