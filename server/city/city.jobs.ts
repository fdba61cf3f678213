import type { Logger } from '../logger.ts';
import type { Metrics } from '../metrics.ts';
import type { Db } from '../db/db.ts';
import { parseJob, type JobHandlers } from '../jobs/job-data.ts';
import { cityAutoCloseJob, cityDeadlineJob, citySweepJob } from '../../shared/jobs.ts';
import { VERDICT_DAYS } from '../../shared/city.ts';
import type { ReportSteps } from './report.steps.ts';
import type { CityNotifier } from './city.notify.ts';
import type { ReportService } from './report.service.ts';
import type { PhotoStorage } from './photo.storage.ts';
import type { ReportStore } from './report.store.ts';

const DAY = 86_400_000;
/** A photo file nobody names after this long is an interrupted submit's leftover. */
const ORPHAN_AGE_MS = 3_600_000;

/**
 * The `city` queue. remind/escalate: once per answer cycle — the inbox items have deterministic ids
 * (delivered first, so a crash before the mark re-delivers nothing new), then the cycle is marked in
 * one transaction with its timeline entry; only the run that marks counts the metric and pushes live.
 */
export function createCityJobs(deps: {
  db: Db;
  steps: ReportSteps;
  reports: ReportStore;
  notify: CityNotifier;
  service: ReportService;
  storage: PhotoStorage;
  metrics: Metrics;
  logger: Logger;
}) {
  const { db, steps, notify, metrics } = deps;

  async function deadline(kind: 'reminded' | 'escalated', reportId: number, cycle: number): Promise<boolean> {
    const c = await db
      .selectFrom('city_cycles as c')
      .innerJoin('city_reports as r', 'r.id', 'c.report_id')
      .select(['c.organisation_id', 'c.deadline', 'c.remind_at', 'c.answered_at', 'c.reminded_at', 'c.escalated_at', 'r.cycle', 'r.status', 'r.address', 'r.category'])
      .where('c.report_id', '=', reportId)
      .where('c.seq', '=', cycle)
      .executeTakeFirst();
    if (!c || c.cycle !== cycle || c.status !== 'routed' || c.answered_at) return false;
    if ((kind === 'reminded' ? c.reminded_at : c.escalated_at) !== null) return false;
    // the same "due" rule as steps.mark, checked before anyone is notified
    const now = Date.now();
    if (kind === 'escalated' && c.deadline.getTime() > now) return false;
    if (kind === 'reminded' && (c.remind_at === null || c.remind_at.getTime() > now || c.deadline.getTime() <= now)) return false;
    await notify.deadline(kind, { id: reportId, address: c.address, category: c.category }, cycle, c.organisation_id, c.deadline);
    const res = await steps.mark(kind, reportId, cycle);
    if (!res) return false;
    if (kind === 'escalated') metrics.cityEscalations.inc({ category: c.category });
    else metrics.cityReminders.inc();
    notify.frames(res.report, res);
    return true;
  }

  /**
   * The safety net of the delayed jobs and the verdict clock: escalations and reminders that are due but
   * unmarked (their job never got queued, or ran too early), verdicts past due, points a crash left out,
   * orphan photo files. Each piece is idempotent, so sweeps may overlap each other and the jobs.
   */
  async function sweep(log: Logger) {
    const now = new Date();
    // the current cycle of a report still waiting for its organisation's answer, not yet escalated
    const waiting = () =>
      db
        .selectFrom('city_cycles as c')
        .innerJoin('city_reports as r', (j) => j.onRef('r.id', '=', 'c.report_id').onRef('r.cycle', '=', 'c.seq'))
        .select(['c.report_id', 'c.seq'])
        .where('r.status', '=', 'routed')
        .where('c.answered_at', 'is', null)
        .where('c.escalated_at', 'is', null);
    const due = await waiting().where('c.deadline', '<=', now).limit(500).execute();
    let escalated = 0;
    for (const d of due) if (await deadline('escalated', d.report_id, d.seq)) escalated++;
    const remind = await waiting()
      .where('c.reminded_at', 'is', null)
      .where('c.remind_at', 'is not', null)
      .where('c.remind_at', '<=', now)
      .where('c.deadline', '>', now)
      .limit(500)
      .execute();
    let reminded = 0;
    for (const d of remind) if (await deadline('reminded', d.report_id, d.seq)) reminded++;
    const stale = await db
      .selectFrom('city_reports')
      .select(['id', 'answered_at'])
      .where('status', '=', 'answered')
      .where('answered_at', '<=', new Date(now.getTime() - VERDICT_DAYS * DAY))
      .limit(500)
      .execute();
    let closed = 0;
    for (const s of stale) {
      const res = await steps.autoClose(s.id, s.answered_at!);
      if (res) {
        closed++;
        await notify.step(res, null);
      }
    }
    const unpaid = await db.selectFrom('city_reports').select(['id', 'reporter_id']).where('resolution', '=', 'confirmed').where('points_awarded_at', 'is', null).limit(500).execute();
    for (const u of unpaid) {
      const row = await deps.reports.row(u.id);
      if (row) await deps.service.creditConfirm(row);
    }
    const old = await deps.storage.listOlderThan(ORPHAN_AGE_MS);
    let removed = 0;
    for (const name of old) {
      if (name.endsWith('.tmp') || !(await deps.reports.photoReferenced(name.slice(0, 64)))) {
        await deps.storage.delete(name).catch(() => {});
        removed++;
      }
    }
    if (escalated || reminded || closed || unpaid.length || removed) log.info({ escalated, reminded, closed, credited: unpaid.length, orphanFilesRemoved: removed }, 'city sweep');
    return { escalated, reminded, closed, credited: unpaid.length, removed };
  }

  const handlers: JobHandlers = {
    remind: async (job) => {
      const j = parseJob(cityDeadlineJob, job);
      return { reminded: await deadline('reminded', j.reportId, j.cycle) };
    },
    escalate: async (job) => {
      const j = parseJob(cityDeadlineJob, job);
      return { escalated: await deadline('escalated', j.reportId, j.cycle) };
    },
    'auto-close': async (job) => {
      const j = parseJob(cityAutoCloseJob, job);
      const res = await steps.autoClose(j.reportId, new Date(j.answeredAt));
      if (res) await notify.step(res, null);
      return { closed: Boolean(res) };
    },
    sweep: async (job, log) => {
      parseJob(citySweepJob, job);
      return sweep(log);
    },
  };
  return { handlers, deadline, sweep };
}
export type CityJobs = ReturnType<typeof createCityJobs>;
