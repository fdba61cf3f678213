import { fail, redirect } from '@sveltejs/kit';
import { failLoad, pollIdParam, serverApi } from '$lib/server/api.ts';
import { answerIssueKey, ballotBody } from '$lib/polls.ts';
import type { PollView } from '$shared/values/polls.ts';
import type { DecisionView } from '$shared/values/decisions.ts';
import type { PollIntegrityReport } from '$shared/integrity.ts';
import type { Actions, PageServerLoad } from './$types';

export const load = (async (event) => {
  const id = pollIdParam(event.params.id);
  const r = await serverApi(event)<PollView>(`/polls/${id}`);
  if (!r.ok) failLoad(r);
  const { poll, voted, eligible, results, withheld } = r.data;
  const d = poll.status === 'closed' || poll.status === 'finalised' ? await serverApi(event)<DecisionView>(`/polls/${id}/decision`) : null;
  const oc = poll.status === 'finalised' ? await serverApi(event)<PollIntegrityReport>(`/polls/${id}/integrity`) : null;
  const ledgerSha256 = oc?.ok ? (oc.data.ledger?.jsonl.sha256 ?? null) : null;
  // the projector link is for staff running a session (residents share the poll page itself)
  const staff = (event.locals.user?.roles ?? []).some((role) => role !== 'resident');
  return { poll, voted, eligible, results, withheld, decision: d?.ok ? d.data : null, justVoted: event.url.searchParams.has('voted'), profileBonus: event.url.searchParams.get('profile') === 'bonus', staff, ledgerSha256 };
}) satisfies PageServerLoad;

export const actions = {
  /** The no-JS vote: every question on one form; with JS the page posts to the API itself. */
  vote: async (event) => {
    const id = pollIdParam(event.params.id);
    const api = serverApi(event);
    const r = await api<PollView>(`/polls/${id}`);
    if (!r.ok) return fail(r.status, { error: r.error.code, issues: {} as Record<string, string> });
    const { poll } = r.data;
    const form = await event.request.formData();
    const answers: Record<string, string[]> = {};
    const issues: Record<string, string> = {};
    for (const q of poll.questions) {
      answers[q.id] = form.getAll(`q:${q.id}`).map(String);
      const issue = answerIssueKey(q, answers[q.id]);
      if (issue) issues[q.id] = issue;
    }
    if (Object.keys(issues).length) return fail(400, { error: 'invalid_ballot', issues, answers });
    const res = await api(`/polls/${id}/ballots`, { method: 'POST', body: ballotBody(answers) });
    if (!res.ok && res.error.code !== 'already_voted') return fail(res.status, { error: res.error.code, issues, answers });
    redirect(303, `/polls/${id}?voted`);
  },
} satisfies Actions;
