import { fail, redirect } from '@sveltejs/kit';
import { serverApi } from '$lib/server/api.ts';
import { safeReturn } from '$lib/server/next.ts';
import { DISTRICTS } from '$shared/districts.ts';
import { GENDERS } from '$shared/values/users.ts';
import type { Actions, PageServerLoad } from './$types';

export const load = (async (event) => {
  if (!event.locals.user) redirect(303, '/signin?next=/profile');
  return { districts: DISTRICTS, next: safeReturn(event.url.searchParams.get('next')) };
}) satisfies PageServerLoad;

export const actions = {
  default: async (event) => {
    const form = await event.request.formData();
    const name = String(form.get('name') ?? '').trim();
    const district = String(form.get('district') ?? '');
    const birthYearRaw = String(form.get('birthYear') ?? '').trim();
    const gender = String(form.get('gender') ?? '');
    const values = { name, district, birthYear: birthYearRaw, gender };
    const errors: Record<string, string> = {};
    const birthYear = Number(birthYearRaw);
    const thisYear = new Date().getUTCFullYear();
    if (!district) errors.district = 'invalid_body';
    if (!Number.isInteger(birthYear) || birthYear < thisYear - 120 || birthYear > thisYear) errors.birthYear = 'invalid_body';
    if (!(GENDERS as readonly string[]).includes(gender)) errors.gender = 'invalid_body';
    if (Object.keys(errors).length) return fail(400, { values, errors, error: 'invalid_body', saved: false });
    const r = await serverApi(event)('/me', { method: 'PATCH', body: { name: name || null, district, birthYear, gender } });
    if (!r.ok) {
      const fieldErrors: Record<string, string> = {};
      for (const d of Array.isArray(r.error.details) ? (r.error.details as { path?: string }[]) : []) if (d.path) fieldErrors[d.path] = r.error.code;
      return fail(r.status, { values, errors: fieldErrors, error: r.error.code, saved: false });
    }
    // came from a poll that needs a profile: back to it, saying what the first completion earned
    const next = safeReturn(event.url.searchParams.get('next'));
    if (next) redirect(303, `${next}${next.includes('?') ? '&' : '?'}profile=${event.locals.user?.profileComplete ? 'saved' : 'bonus'}`);
    return { values, errors: {} as Record<string, string>, error: null, saved: true };
  },
} satisfies Actions;
