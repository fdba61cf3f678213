import { fail, redirect } from '@sveltejs/kit';
import { serverApi } from '$lib/server/api.ts';
import { safeReturn } from '$lib/server/next.ts';
import type { Actions, PageServerLoad } from './$types';

const PHONE = /^\+?[0-9][0-9\s()-]{6,20}$/;
const normalise = (s: string) => {
  const digits = s.replace(/[^0-9]/g, '');
  return digits.length === 11 && digits.startsWith('8') ? `+7${digits.slice(1)}` : `+${digits}`;
};

export const load = (async ({ locals, url }) => {
  if (locals.user) redirect(303, safeReturn(url.searchParams.get('next')) ?? '/polls');
  return { next: safeReturn(url.searchParams.get('next')) };
}) satisfies PageServerLoad;

export const actions = {
  otp: async (event) => {
    const form = await event.request.formData();
    const raw = String(form.get('phone') ?? '').trim();
    const next = safeReturn(form.get('next'));
    if (!PHONE.test(raw)) return fail(400, { step: 'phone' as const, phone: raw, next, error: 'bad_phone' });
    const phone = normalise(raw);
    const r = await serverApi(event)('/auth/otp', { method: 'POST', body: { phone } });
    if (!r.ok) return fail(r.status, { step: 'phone' as const, phone: raw, next, error: r.error.code });
    return { step: 'code' as const, phone, next, error: null };
  },
  verify: async (event) => {
    const form = await event.request.formData();
    const phone = String(form.get('phone') ?? '');
    const code = String(form.get('code') ?? '').replace(/\s/g, '');
    const next = safeReturn(form.get('next'));
    if (!/^[0-9]{4,8}$/.test(code)) return fail(400, { step: 'code' as const, phone, next, error: 'bad_code' });
    const r = await serverApi(event)<{ user?: { profileComplete?: boolean } }>('/auth/verify', { method: 'POST', body: { phone, code } });
    if (!r.ok) {
      const again = r.error.code === 'code_expired' || r.error.code === 'too_many_attempts';
      return fail(r.status, { step: again ? ('phone' as const) : ('code' as const), phone, next, error: r.error.code });
    }
    const complete = r.data?.user?.profileComplete ?? true;
    redirect(303, next ?? (complete ? '/polls' : '/profile'));
  },
} satisfies Actions;
