import { fail, redirect } from '@sveltejs/kit';
import { failLoad, serverApi } from '$lib/server/api.ts';
import { loadCatalogue, multipartOf, reportIdParam } from '$lib/server/city.ts';
import { REPORT_DEP } from '$lib/city/live.svelte.ts';
import { OPEN_STATUSES } from '$shared/values/city.ts';
import type { Organisation, Report, ReportSummary } from '$shared/city.ts';
import type { ReportPage } from '$shared/city-lists.ts';
import { OKRUGS, districtById } from '$shared/districts.ts';
import type { Actions, PageServerLoad, RequestEvent } from './$types';

/** Open reports of the same category and district offered as merge targets (a number can still be typed). */
const MERGE_CANDIDATES = 5;

export const load = (async (event) => {
  event.depends(REPORT_DEP);
  const id = reportIdParam(event.params.id);
  const api = serverApi(event);
  const [r, catalogue] = await Promise.all([api<Report>(`/city/reports/${id}`), loadCatalogue(api)]);
  if (!r.ok) failLoad(r);
  const report = r.data;
  let proposedId: number | null = report.proposedOrganisationId ?? null;
  let mergeCandidates: ReportSummary[] = [];
  if (report.viewer.canModerate && report.status === 'submitted') {
    const [p, similar] = await Promise.all([
      proposedId === null ? api<{ organisation: Organisation | null }>(`/city/route-proposal?${new URLSearchParams({ category: report.category, district: report.district })}`) : null,
      // what a duplicate most likely is: an open report of the same category in the same district
      api<ReportPage>(`/city/reports?${new URLSearchParams({ category: report.category, district: report.district, status: OPEN_STATUSES.join(','), pageSize: String(MERGE_CANDIDATES + 1) })}`),
    ]);
    if (p?.ok) proposedId = p.data.organisation?.id ?? null;
    if (similar.ok) mergeCandidates = similar.data.items.filter((c) => c.id !== report.id).slice(0, MERGE_CANDIDATES);
  }
  // the names of the report's one district and okrug (the page does not ship the whole district table)
  const place = {
    district: districtById(report.district)?.name ?? { ru: report.district, en: report.district },
    okrug: OKRUGS.find((o) => o.id === report.okrug)?.abbr ?? { ru: report.okrug, en: report.okrug },
  };
  return { report, catalogue, proposedId, mergeCandidates, place, sent: event.url.searchParams.has('sent') };
}) satisfies PageServerLoad;

type Step = 'support' | 'confirm' | 'dispute' | 'route' | 'reject' | 'merge' | 'answer';

/** One lifecycle step: POST it, and on refusal hand the code back to the panel that sent it (409: someone else was quicker). */
async function step(event: RequestEvent, kind: Step, body?: unknown) {
  if (!event.locals.user) redirect(303, `/signin?next=${encodeURIComponent(event.url.pathname)}`);
  const id = reportIdParam(event.params.id);
  const r = await serverApi(event)(`/city/reports/${id}/${kind}`, { method: 'POST', body });
  if (!r.ok) return fail(r.status, { kind, error: r.error.code, done: false });
  return { kind, error: null, done: true };
}

const text = (f: FormData, k: string) => String(f.get(k) ?? '').trim();

export const actions = {
  /** "Me too" is idempotent; it lands on the report either way, so the duplicate offer of the form can post here. */
  support: async (event) => {
    const r = await step(event, 'support');
    if ('done' in r && r.done) redirect(303, `/city/reports/${reportIdParam(event.params.id)}`);
    return r;
  },
  confirm: (event) => step(event, 'confirm'),
  dispute: async (event) => step(event, 'dispute', { comment: text(await event.request.formData(), 'comment') }),
  route: async (event) => {
    const f = await event.request.formData();
    const note = text(f, 'note');
    return step(event, 'route', { organisationId: Number(f.get('organisationId')), ...(note ? { note } : {}) });
  },
  reject: async (event) => {
    const f = await event.request.formData();
    return step(event, 'reject', { reason: text(f, 'reason'), comment: text(f, 'comment') });
  },
  merge: async (event) => {
    const f = await event.request.formData();
    const note = text(f, 'note');
    // a candidate's button names its report; else the number typed in
    const into = f.get('candidate') ?? f.get('into');
    return step(event, 'merge', { into: Number(into), ...(note ? { note } : {}) });
  },
  answer: async (event) => {
    const { body } = multipartOf(await event.request.formData(), ['text', 'outcome', 'plannedFor']);
    // the date field may keep a value after the outcome was switched away from "planned"
    if (body.get('outcome') !== 'planned') body.delete('plannedFor');
    return step(event, 'answer', body);
  },
} satisfies Actions;
