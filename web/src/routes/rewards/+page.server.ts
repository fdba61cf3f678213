import { fail, redirect } from '@sveltejs/kit';
import { serverApi } from '$lib/server/api.ts';
import type { MyPoints } from '$shared/points.ts';
import type { Redemption, Reward } from '$shared/rewards.ts';
import type { Actions, PageServerLoad } from './$types';

export const load = (async (event) => {
  const api = serverApi(event);
  const signedIn = !!event.locals.user;
  const [rw, mine, pts] = await Promise.all([
    api<{ rewards: Reward[] }>('/rewards'),
    signedIn ? api<{ redemptions: Redemption[] }>('/me/redemptions') : null,
    signedIn ? api<MyPoints>('/me/points?limit=1') : null,
  ]);
  return {
    rewards: rw.ok ? rw.data.rewards.filter((r) => r.active) : [],
    redemptions: mine?.ok ? mine.data.redemptions : [],
    balance: pts?.ok ? pts.data.balance : null,
  };
}) satisfies PageServerLoad;

export const actions = {
  redeem: async (event) => {
    if (!event.locals.user) redirect(303, '/signin?next=/rewards');
    const f = await event.request.formData();
    const id = Number(f.get('id'));
    if (!Number.isSafeInteger(id) || id <= 0) return fail(400, { id: null as number | null, error: 'invalid_params', redemption: null, confirm: false });
    // points are spent only after the resident confirmed what they get and what it costs
    if (f.get('confirm') !== 'on') return { id, error: null, redemption: null, confirm: true };
    const r = await serverApi(event)<{ redemption: Redemption; balance: number }>(`/rewards/${id}/redeem`, { method: 'POST' });
    if (!r.ok) return fail(r.status, { id, error: r.error.code, redemption: null, confirm: false });
    return { id, error: null, redemption: r.data.redemption, confirm: false };
  },
} satisfies Actions;
