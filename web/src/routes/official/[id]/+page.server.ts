import { fail } from '@sveltejs/kit';
import { failLoad, pollIdParam, serverApi } from '$lib/server/api.ts';
import type { DecisionView } from '$shared/values/decisions.ts';
import type { PollView } from '$shared/values/polls.ts';
import { OKRUGS } from '$shared/districts.ts';
import type { Actions, PageServerLoad } from './$types';

export const load = (async (event) => {
  const id = pollIdParam(event.params.id);
  const api = serverApi(event);
  const [p, d] = await Promise.all([api<PollView>(`/polls/${id}`), api<DecisionView>(`/polls/${id}/decision`)]);
  if (!p.ok) failLoad(p);
  return { poll: p.data.poll, results: p.data.results, decision: d.ok ? d.data : null, decisionError: d.ok ? null : d.error.code, okrugs: OKRUGS };
}) satisfies PageServerLoad;

/** Steps that cannot be undone: the page asks for a confirmation. */
const FINAL_STEPS = new Set(['rejected', 'implemented']);

export const actions = {
  publish: async (event) => {
    const id = pollIdParam(event.params.id);
    const f = await event.request.formData();
    const values = { summary: String(f.get('summary') ?? '').trim(), body: String(f.get('body') ?? '').trim() };
    if (values.summary.length < 3 || !values.body) return fail(400, { kind: 'publish' as const, values, error: 'invalid_body' });
    const r = await serverApi(event)(`/polls/${id}/decision`, { method: 'POST', body: values });
    if (!r.ok) return fail(r.status, { kind: 'publish' as const, values, error: r.error.code });
    return { kind: 'publish' as const, values, error: null, done: true };
  },
  step: async (event) => {
    const id = pollIdParam(event.params.id);
    const f = await event.request.formData();
    const status = String(f.get('status') ?? '');
    const text = String(f.get('text') ?? '').trim();
    const values = { status, text };
    // said at the field, before the API is asked: a rejection needs its reason, a final step a confirmation
    if (status === 'rejected' && text.length < 3) return fail(400, { kind: 'step' as const, values, error: null, field: 'reason' as const });
    if (FINAL_STEPS.has(status) && f.get('confirm') !== 'on') return fail(400, { kind: 'step' as const, values, error: null, field: 'confirm' as const });
    const body = status === 'rejected' ? { status, reason: text } : { status, ...(text ? { note: text } : {}) };
    const r = await serverApi(event)(`/polls/${id}/decision/status`, { method: 'POST', body });
    if (!r.ok) return fail(r.status, { kind: 'step' as const, values, error: r.error.code });
    return { kind: 'step' as const, values: { status: '', text: '' }, error: null, done: true };
  },
} satisfies Actions;
