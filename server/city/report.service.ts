import type { Queue } from 'bullmq';
import type { Logger } from '../logger.ts';
import type { User } from '../../shared/users.ts';
import type { UserStore } from '../users/user.store.ts';
import type { PointsService } from '../points/points.service.ts';
import type { RateLimiter } from '../redis/rate-limiter.ts';
import { AppError, parseOr } from '../errors.ts';
import {
  answerBodySchema, reportCreateSchema, CONFIRM_POINTS, VERDICT_DAYS, type Report, type RejectReason,
} from '../../shared/city.ts';
import { type ReportListQuery, type ReportPage } from '../../shared/city-lists.ts';
import { cityAutoCloseJobId, cityJobId } from '../../shared/jobs.ts';
import { cityPolicy } from './city.policy.ts';
import { processPhoto, photoNames } from './photo.processor.ts';
import type { PhotoStorage } from './photo.storage.ts';
import { timelineEntryOf, type ReportRow, type ReportStore } from './report.store.ts';
import type { ReportSteps, StepResult, StoredPhoto } from './report.steps.ts';
import type { CatalogueStore } from './catalogue.store.ts';
import type { CityNotifier } from './city.notify.ts';

const DAY = 86_400_000;

/**
 * Our City's use cases: validation, policy, photos (written before the transaction, removed again if it
 * fails), the step transactions, then notifications and the delayed deadline jobs.
 */
export function createReportService(deps: {
  steps: ReportSteps;
  reports: ReportStore;
  catalogue: CatalogueStore;
  storage: PhotoStorage;
  notify: CityNotifier;
  queue: Queue;
  points: PointsService;
  users: UserStore;
  dailyLimit: RateLimiter;
  logger: Logger;
}) {
  const { steps, reports, catalogue, storage, notify, queue } = deps;
  const log = deps.logger.child({ domain: 'city' });

  /** Re-encode every photo, then write them; returns what was stored and which files are new (to undo). */
  async function storePhotos(files: Buffer[]): Promise<{ stored: StoredPhoto[]; created: string[] }> {
    const processed = [];
    for (const f of files) processed.push(await processPhoto(f));
    const created: string[] = [];
    try {
      for (const p of processed) {
        const n = photoNames(p.hash);
        if (await storage.put(n.full, p.full)) created.push(n.full);
        if (await storage.put(n.thumb, p.thumb)) created.push(n.thumb);
      }
    } catch (err) {
      await undoPhotos(created);
      throw err;
    }
    return { stored: processed.map((p) => ({ hash: p.hash, width: p.width, height: p.height, bytes: p.full.length })), created };
  }

  /** Remove files this request created, unless a committed row names the same content meanwhile. */
  async function undoPhotos(created: string[]) {
    for (const name of created) {
      const hash = name.slice(0, 64);
      try {
        if (!(await reports.photoReferenced(hash))) await storage.delete(name);
      } catch {
        // the database is down too: delete anyway (the row that would name it cannot have committed
        // through this request; another report's identical photo re-creates the file on its next upload)
        await storage.delete(name).catch((err) => log.warn({ err, name }, 'could not remove a photo file'));
      }
    }
  }

  async function withPhotos<T>(files: Buffer[], fn: (stored: StoredPhoto[]) => Promise<T>): Promise<T> {
    const { stored, created } = await storePhotos(files);
    try {
      return await fn(stored);
    } catch (err) {
      await undoPhotos(created);
      throw err;
    }
  }

  /** The cycle's delayed jobs; one that never gets queued (a crash right after the commit) is the sweep's. */
  async function scheduleDeadline(r: ReportRow, cycle: number, deadline: Date, remindAt: Date | null) {
    const j = { reportId: r.id, cycle };
    const jobs: Promise<unknown>[] = [queue.add('escalate', j, { jobId: cityJobId('escalate', j), delay: Math.max(0, deadline.getTime() + 1 - Date.now()) })];
    if (remindAt) jobs.push(queue.add('remind', j, { jobId: cityJobId('remind', j), delay: Math.max(0, remindAt.getTime() - Date.now()) }));
    await Promise.all(jobs).catch((err) => log.warn({ err, reportId: r.id }, 'deadline jobs not queued (the sweep covers them)'));
  }

  async function view(r: ReportRow, viewer: User | null): Promise<Report> {
    const [{ entries, photos }, supported, bound] = await Promise.all([
      reports.timeline(r.id),
      viewer ? reports.supported(r.id, viewer.id) : Promise.resolve(false),
      viewer?.roles.includes('responder') ? catalogue.responderOrgs(viewer.id) : Promise.resolve([]),
    ]);
    let names: Map<number, string> | null = null;
    if (cityPolicy.isStaff(viewer)) {
      const ids = [...new Set(entries.filter((e) => e.actor_id !== null && e.actor_role !== 'resident').map((e) => e.actor_id!))];
      const users = await Promise.all(ids.map((id) => deps.users.get(id)));
      names = new Map(users.filter((u): u is User => Boolean(u)).map((u) => [u.id, u.name ?? `#${u.id}`]));
    }
    const summary = reports.summaryOf(r, photos.get(0)?.[0]?.hash ?? null, Date.now());
    const scope = cityPolicy.answerScope(viewer, bound);
    return {
      ...summary,
      description: r.description,
      photos: photos.get(0) ?? [],
      outcome: r.outcome as Report['outcome'],
      plannedFor: r.planned_for,
      resolution: r.resolution as Report['resolution'],
      mergedInto: r.merged_into,
      rejectReason: r.reject_reason as Report['rejectReason'],
      verdictDueAt: r.status === 'answered' && r.answered_at ? new Date(r.answered_at.getTime() + VERDICT_DAYS * DAY).toISOString() : null,
      timeline: entries.map((e) => timelineEntryOf(e, photos.get(e.seq) ?? [], names)),
      viewer: {
        isReporter: viewer?.id === r.reporter_id,
        supported,
        canAnswer: r.status === 'routed' && (scope === null || scope.includes(r.organisation_id!)),
        canModerate: r.status === 'submitted' && cityPolicy.canModerate(viewer),
      },
    };
  }

  async function get(id: number, viewer: User | null): Promise<Report> {
    const r = await reports.row(id);
    if (!r) throw new AppError('not_found', `No report ${id}`);
    return view(r, viewer);
  }

  const after = async (res: StepResult, viewer: User, opts: { extraOrgs?: number[]; alert?: boolean } = {}) => {
    await notify.step(res, viewer.id, opts);
    return view(res.report, viewer);
  };

  const staffActor = (u: User, role: 'moderator' | 'responder') => ({ id: u.id, role: u.roles.includes(role) ? role : ('admin' as const) });

  return {
    get,
    view,

    async create(user: User, fields: Record<string, string>, files: Buffer[]): Promise<Report> {
      const data = parseOr(reportCreateSchema, fields, 'invalid_body', 'Invalid report');
      // only a report that is filed uses up one of the day's: a refused submit (bad photo, duplicate,
      // database down) gives its unit back (the limiter's spend, atomic under parallel submits)
      const res = await deps.dailyLimit.spend(String(user.id), () => withPhotos(files, (stored) => steps.create(user.id, data, stored)));
      return after(res, user, { alert: true });
    },

    async support(id: number, user: User) {
      const { report, added } = await steps.support(id, user.id);
      if (added) notify.frames(report, { step: 'submitted', seq: report.timeline_seq, at: new Date() });
      return { reportId: id, supporters: report.supporters, supported: true as const };
    },

    async route(id: number, user: User, organisationId: number, note?: string) {
      const res = await steps.route(id, staffActor(user, 'moderator'), organisationId, note);
      await scheduleDeadline(res.report, res.cycle, res.deadline, res.remindAt);
      return after(res, user);
    },

    async reject(id: number, user: User, reason: RejectReason, comment: string) {
      return after(await steps.reject(id, staffActor(user, 'moderator'), reason, comment), user);
    },

    async merge(id: number, user: User, into: number, note?: string) {
      const res = await steps.merge(id, staffActor(user, 'moderator'), into, note);
      notify.frames(res.target, { step: 'submitted', seq: res.target.timeline_seq, at: res.at });
      return after(res, user);
    },

    async answer(id: number, user: User, fields: Record<string, string>, files: Buffer[]) {
      const body = parseOr(answerBodySchema, fields, 'invalid_body', 'Invalid answer');
      const scope = cityPolicy.answerScope(user, user.roles.includes('responder') ? await catalogue.responderOrgs(user.id) : []);
      if (scope !== null && !scope.length) throw new AppError('forbidden', 'Only an organisation bound to you can answer');
      const res = await withPhotos(files, (stored) => steps.answer(id, staffActor(user, 'responder'), scope, body, stored));
      if (res.report.status === 'answered') {
        const answeredAt = res.report.answered_at!.getTime();
        await queue
          .add('auto-close', { reportId: id, answeredAt }, { jobId: cityAutoCloseJobId({ reportId: id, answeredAt }), delay: VERDICT_DAYS * DAY })
          .catch((err) => log.warn({ err, reportId: id }, 'auto-close job not queued (the sweep covers it)'));
      }
      return after(res, user, { extraOrgs: [res.previousOrganisation], alert: true });
    },

    async confirm(id: number, user: User) {
      const res = await steps.confirm(id, user.id);
      await creditConfirm(res.report);
      return after(res, user);
    },

    async dispute(id: number, user: User, comment: string) {
      const res = await steps.dispute(id, user.id, comment);
      await scheduleDeadline(res.report, res.cycle, res.deadline, res.remindAt);
      return after(res, user);
    },

    list: (q: ReportListQuery): Promise<ReportPage> => reports.page(q, q.sort, q.page, q.pageSize),
    creditConfirm,
    undoPhotos,
  };

  /** Points for a confirmed report: idempotent in the ledger (reason `report`, ref = id); the sweep retries. */
  async function creditConfirm(r: ReportRow) {
    try {
      await deps.points.award(r.reporter_id, 'report', String(r.id), CONFIRM_POINTS);
      await steps.markPointsAwarded(r.id);
    } catch (err) {
      log.warn({ err, reportId: r.id }, 'confirm points not credited yet (the sweep retries)');
    }
  }
}
export type ReportService = ReturnType<typeof createReportService>;
