import { fail } from '@sveltejs/kit';
import { serverApi } from '$lib/server/api.ts';
import type { Reward } from '$shared/rewards.ts';
import type { Actions, PageServerLoad } from './$types';

/** The whole catalogue (admins also see rewards taken off sale). */
export const load = (async (event) => {
  const r = await serverApi(event)<{ rewards: Reward[] }>('/rewards');
  return { rewards: r.ok ? r.data.rewards : [], error: r.ok ? null : r.error.code };
}) satisfies PageServerLoad;

type Values = { name: string; description: string; price: string; stock: string; active: boolean };

function read(f: FormData): { values: Values; body: { name: string; description: string; price: number; stock: number; active: boolean } } {
  const values: Values = {
    name: String(f.get('name') ?? '').trim(),
    description: String(f.get('description') ?? '').trim(),
    price: String(f.get('price') ?? ''),
    stock: String(f.get('stock') ?? ''),
    active: f.get('active') === 'on',
  };
  // the API validates the numbers (a non-number becomes NaN and is refused with the field named)
  return { values, body: { ...values, price: values.price === '' ? NaN : Number(values.price), stock: values.stock === '' ? NaN : Number(values.stock) } };
}

type Detail = { path?: string; message?: string };
const detailsOf = (d: unknown) => (Array.isArray(d) ? (d as Detail[]) : []);

export const actions = {
  create: async (event) => {
    const { values, body } = read(await event.request.formData());
    const r = await serverApi(event)<{ reward: Reward }>('/rewards', { method: 'POST', body });
    if (!r.ok) return fail(r.status, { kind: 'create' as const, id: null as number | null, values, error: r.error.code, details: detailsOf(r.error.details), name: '' });
    return { kind: 'create' as const, id: r.data.reward.id, values: null, error: null, details: [] as Detail[], name: r.data.reward.name };
  },
  update: async (event) => {
    const f = await event.request.formData();
    const id = Number(f.get('id'));
    const { values, body } = read(f);
    if (!Number.isSafeInteger(id) || id <= 0) return fail(400, { kind: 'update' as const, id: null, values, error: 'invalid_params', details: [] as Detail[], name: '' });
    const r = await serverApi(event)<{ reward: Reward }>(`/rewards/${id}`, { method: 'PATCH', body });
    if (!r.ok) return fail(r.status, { kind: 'update' as const, id, values, error: r.error.code, details: detailsOf(r.error.details), name: '' });
    return { kind: 'update' as const, id, values: null, error: null, details: [] as Detail[], name: r.data.reward.name };
  },
} satisfies Actions;
