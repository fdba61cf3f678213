import type { Logger } from '../logger.ts';
import type { Metrics } from '../metrics.ts';
import type { NotificationService } from '../notifications/notification.service.ts';
import { rooms, type RealtimeEmitter } from '../realtime/emitter.ts';
import type { UserStore } from '../users/user.store.ts';
import type { CityQueueFrame, CityReportFrame } from '../../shared/city.ts';
import type { ReportRow, ReportStore } from './report.store.ts';
import type { StepResult } from './report.steps.ts';
import type { CatalogueStore } from './catalogue.store.ts';

const STEP_TITLES: Record<string, string> = {
  submitted: 'Report filed',
  routed: 'Report sent to the responsible organisation',
  rejected: 'Report rejected',
  merged: 'Report merged into another one',
  answered: 'The organisation answered',
  confirmed: 'The reporter confirmed the fix',
  disputed: 'The reporter disputed the answer',
  closed: 'Report closed',
  reminded: 'Answer deadline is near',
  escalated: 'Answer deadline passed',
};

/**
 * After a committed step: live frames (the report's watchers, the moderation queue, the organisation's
 * inbox), inbox notifications to the reporter and every supporter, area alerts for new reports and
 * answers. Notification ids are deterministic per step, so a re-run never doubles an inbox entry.
 * Best effort: a failure here is logged, never undoes or fails the step.
 */
export function createCityNotifier(deps: {
  realtime: RealtimeEmitter;
  notifications: NotificationService;
  reports: ReportStore;
  catalogue: CatalogueStore;
  users: UserStore;
  metrics: Metrics;
  logger: Logger;
}) {
  const { realtime, notifications, reports, metrics } = deps;
  const log = deps.logger.child({ domain: 'city' });

  function frames(r: ReportRow, res: Pick<StepResult, 'step' | 'seq' | 'at'>, extraOrgs: number[] = []) {
    const overdue = r.status === 'routed' && r.deadline !== null && r.deadline.getTime() < Date.now();
    const frame: CityReportFrame = {
      reportId: r.id,
      status: r.status as CityReportFrame['status'],
      step: res.step,
      seq: res.seq,
      at: res.at.toISOString(),
      overdue,
      deadline: r.deadline ? r.deadline.toISOString() : null,
      supporters: r.supporters,
    };
    realtime.toRooms([rooms.cityReport(r.id)], 'city:report', frame);
    const orgRooms = [...new Set([r.organisation_id, ...extraOrgs].filter((o): o is number => o !== null))].map((o) => rooms.cityOrg(o));
    const q: CityQueueFrame = { ...frame, organisationId: r.organisation_id, category: r.category, district: r.district };
    realtime.toRooms([rooms.cityModeration(), ...orgRooms], 'city:queue', q);
  }

  return {
    frames,

    async step(res: StepResult, actorId: number | null, opts: { extraOrgs?: number[]; alert?: boolean } = {}) {
      const r = res.report;
      metrics.citySteps.inc({ step: res.step });
      try {
        frames(r, res, opts.extraOrgs);
        const followers = [r.reporter_id, ...(await reports.supporterIds(r.id))].filter((u) => u !== actorId);
        const base = { title: STEP_TITLES[res.step] ?? res.step, body: `#${r.id} · ${r.address}`, reportId: r.id, createdAt: res.at.toISOString() };
        if (res.step !== 'submitted') await notifications.deliver([...new Set(followers)], { id: `r${r.id}.${res.seq}`, kind: 'city.step', ...base });
        if (opts.alert) {
          const skip = new Set([...followers, actorId]);
          const area = (await reports.alertFollowers(r.district, r.category)).filter((u) => !skip.has(u));
          if (area.length) await notifications.deliver(area, { id: `a${r.id}.${res.seq}`, kind: 'city.alert', ...base, title: res.step === 'submitted' ? 'New report in your area' : 'An answer in your area' });
        }
      } catch (err) {
        log.warn({ err, reportId: r.id, step: res.step }, 'city notification failed (the step stands)');
      }
    },

    /** Reminder: the organisation's responders. Escalation: moderators and officials (and admins). */
    async deadline(kind: 'reminded' | 'escalated', r: Pick<ReportRow, 'id' | 'address' | 'category'>, cycle: number, organisationId: number, deadline: Date) {
      const to = kind === 'reminded' ? await deps.catalogue.respondersOf(organisationId) : await deps.users.withRoles(['moderator', 'official', 'admin']);
      if (!to.length) return 0;
      return notifications.deliver(to, {
        id: `${kind === 'reminded' ? 'm' : 'e'}${r.id}.${cycle}`,
        kind: kind === 'reminded' ? 'city.reminder' : 'city.escalation',
        title: STEP_TITLES[kind]!,
        body: `#${r.id} · ${r.address} · ${deadline.toISOString()}`,
        reportId: r.id,
        createdAt: new Date().toISOString(),
      });
    },
  };
}
export type CityNotifier = ReturnType<typeof createCityNotifier>;
