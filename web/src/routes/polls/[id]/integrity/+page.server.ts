import { failLoad, pollIdParam, serverApi } from '$lib/server/api.ts';
import type { PollView } from '$shared/values/polls.ts';
import type { PollIntegrityReport } from '$shared/integrity.ts';
import type { Representativeness } from '$shared/representativeness.ts';
import { OKRUGS } from '$shared/districts.ts';
import type { PageServerLoad } from './$types';

/** The open count of one poll: staff while it is open, everyone once it has closed (the API decides). */
export const load = (async (event) => {
  const id = pollIdParam(event.params.id);
  const api = serverApi(event);
  const [report, view, panel] = await Promise.all([
    api<PollIntegrityReport>(`/polls/${id}/integrity`),
    api<PollView>(`/polls/${id}`),
    api<Representativeness>(`/polls/${id}/representativeness`),
  ]);
  if (!report.ok) failLoad(report);
  if (!view.ok) failLoad(view);
  return { report: report.data, poll: view.data.poll, results: view.data.results, panel: panel.ok ? panel.data : null, okrugs: OKRUGS };
}) satisfies PageServerLoad;
