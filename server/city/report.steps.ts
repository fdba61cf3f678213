import { sql, type Updateable } from 'kysely';
import type { CityReportTable } from '../db/schema.ts';
import type { Db } from '../db/db.ts';
import { AppError } from '../errors.ts';
import { addWorkingDays, workingDaysBetween, type WorkCalendar } from '../decisions/working-days.ts';
import { districtById } from '../../shared/districts.ts';
import { OPEN_STATUSES, VERDICT_DAYS, type ActorRole, type AnswerBody, type RejectReason, type ReportCreate, type ReportStatus, type TimelineStep } from '../../shared/city.ts';
import { REPORT_COLUMNS, addressKey, type ReportRow } from './report.store.ts';
import { createStepHelpers } from './report.tx.ts';
import { bumpBoard } from './board.rollup.ts';

export type Actor = { id: number | null; role: ActorRole };
export type StoredPhoto = { hash: string; width: number; height: number; bytes: number };
/** What a step did: the report after it, and the timeline step it appended. */
export type StepResult = { report: ReportRow; step: TimelineStep; seq: number; at: Date };

const DAY = 86_400_000;
const VERDICT_MS = VERDICT_DAYS * DAY;
const returning = REPORT_COLUMNS;

/**
 * The report's state machine. Every step is ONE transaction that locks the report row (SELECT … FOR
 * UPDATE), checks the state the step needs (else 409 `invalid_state`: another actor won), changes it and
 * appends exactly one timeline entry. Two actors at once: the second waits for the lock, then sees the
 * new state and gets the 409.
 */
export function createReportSteps(db: Db, deps: { calendar: WorkCalendar; now?: () => number }) {
  const now = deps.now ?? Date.now;

  const { lock, expect, apply, newCycle, photos, blank } = createStepHelpers(deps.calendar);

  return {
    /**
     * A new report with its photos (already on disk). An open report with the same category, district
     * and address → 409 `duplicate` (details.reportId). A transaction-scoped advisory lock on that triple
     * keeps two identical submits from both passing the check.
     */
    async create(reporterId: number, data: ReportCreate, list: StoredPhoto[]): Promise<StepResult> {
      const at = new Date(now());
      const key = addressKey(data.address);
      return db.transaction().execute(async (trx) => {
        await sql`select pg_advisory_xact_lock(hashtext(${`${data.category}|${data.district}|${key}`}))`.execute(trx);
        const cat = await trx.selectFrom('city_categories').select(['code', 'active']).where('code', '=', data.category).executeTakeFirst();
        if (!cat || !cat.active) throw new AppError('invalid_body', 'Unknown category', [{ path: 'category', message: 'unknown or inactive category' }]);
        const dupe = await trx
          .selectFrom('city_reports')
          .select('id')
          .where('category', '=', data.category)
          .where('district', '=', data.district)
          .where('address_key', '=', key)
          .where('status', 'in', [...OPEN_STATUSES])
          .orderBy('id')
          .limit(1)
          .executeTakeFirst();
        if (dupe) throw new AppError('duplicate', 'An open report about this already exists: support it instead', { reportId: dupe.id });
        const inserted = await trx
          .insertInto('city_reports')
          .values({
            reporter_id: reporterId,
            category: data.category,
            district: data.district,
            okrug: districtById(data.district)!.okrug,
            address: data.address,
            address_key: key,
            lat: data.lat ?? null,
            lng: data.lng ?? null,
            description: data.description,
            status: 'submitted',
            deadline: null,
            answered_at: null,
            outcome: null,
            planned_for: null,
            resolution: null,
            merged_into: null,
            reject_reason: null,
            points_awarded_at: null,
            closed_at: null,
            created_at: at,
            updated_at: at,
          })
          .returning('id')
          .executeTakeFirstOrThrow();
        await photos(trx, inserted.id, 0, list);
        return apply(trx, inserted.id, at, {}, { ...blank, step: 'submitted', actor: { id: reporterId, role: 'resident' } });
      });
    },

    /** "Me too": idempotent; the reporter cannot support their own report; only open reports. */
    async support(id: number, userId: number): Promise<{ report: ReportRow; added: boolean }> {
      return db.transaction().execute(async (trx) => {
        const r = await lock(trx, id);
        if (r.reporter_id === userId) throw new AppError('conflict', 'You filed this report');
        expect(r, OPEN_STATUSES, 'support');
        const ins = await trx.insertInto('city_supports').values({ report_id: id, user_id: userId }).onConflict((oc) => oc.doNothing()).returning('user_id').executeTakeFirst();
        if (!ins) return { report: r, added: false };
        const report = (await trx.updateTable('city_reports').set({ supporters: sql<number>`supporters + 1` }).where('id', '=', id).returning(returning).executeTakeFirstOrThrow()) as ReportRow;
        return { report, added: true };
      });
    },

    async route(id: number, actor: Actor, organisationId: number, note?: string): Promise<StepResult & { deadline: Date; cycle: number; remindAt: Date | null }> {
      const at = new Date(now());
      return db.transaction().execute(async (trx) => {
        const r = await lock(trx, id);
        expect(r, ['submitted'], 'route');
        const org = await trx.selectFrom('city_organisations').select(['id', 'active']).where('id', '=', organisationId).executeTakeFirst();
        if (!org || !org.active) throw new AppError('invalid_body', `No active organisation ${organisationId}`, [{ path: 'organisationId', message: 'unknown or inactive organisation' }]);
        const { cycle, deadline, remindAt } = await newCycle(trx, r, organisationId, at);
        await bumpBoard(trx, { routedAtMs: at.getTime(), utcOffsetMinutes: deps.calendar.utcOffsetMinutes, organisationId, district: r.district }, { received: true });
        const res = await apply(
          trx, id, at,
          { status: 'routed', organisation_id: organisationId, cycle, deadline, answered_at: null, outcome: null, planned_for: null },
          { ...blank, step: 'routed', actor, organisation_id: organisationId, deadline, note: note || null },
        );
        return { ...res, deadline, cycle, remindAt };
      });
    },

    async reject(id: number, actor: Actor, reason: RejectReason, comment: string): Promise<StepResult> {
      const at = new Date(now());
      return db.transaction().execute(async (trx) => {
        const r = await lock(trx, id);
        expect(r, ['submitted'], 'reject');
        return apply(trx, id, at, { status: 'rejected', reject_reason: reason, closed_at: at }, { ...blank, step: 'rejected', actor, reason, note: comment });
      });
    },

    /** Into another open report: the reporter and supporters of this one become its supporters. */
    async merge(id: number, actor: Actor, into: number, note?: string): Promise<StepResult & { target: ReportRow }> {
      if (id === into) throw new AppError('invalid_body', 'A report cannot be merged into itself', [{ path: 'into', message: 'same report' }]);
      const at = new Date(now());
      return db.transaction().execute(async (trx) => {
        // lock in id order: two merges of a pair in opposite directions cannot deadlock
        const [a, b] = id < into ? [id, into] : [into, id];
        const ra = await lock(trx, a);
        const rb = await lock(trx, b);
        const [r, target] = a === id ? [ra, rb] : [rb, ra];
        expect(r, ['submitted'], 'merge');
        if (!OPEN_STATUSES.includes(target.status as ReportStatus)) throw new AppError('invalid_state', `Cannot merge into report ${into}: it is ${target.status}`, { status: target.status });
        const movers = await trx.selectFrom('city_supports').select('user_id').where('report_id', '=', id).execute();
        const users = [...new Set([r.reporter_id, ...movers.map((m) => m.user_id)])].filter((u) => u !== target.reporter_id);
        let added = 0;
        if (users.length) {
          const ins = await trx.insertInto('city_supports').values(users.map((user_id) => ({ report_id: into, user_id, at }))).onConflict((oc) => oc.doNothing()).returning('user_id').execute();
          added = ins.length;
        }
        const updatedTarget = (await trx.updateTable('city_reports').set({ supporters: sql<number>`supporters + ${added}` }).where('id', '=', into).returning(returning).executeTakeFirstOrThrow()) as ReportRow;
        const res = await apply(trx, id, at, { status: 'merged', merged_into: into, closed_at: at }, { ...blank, step: 'merged', actor, merged_into: into, note: note || null });
        return { ...res, target: updatedTarget };
      });
    },

    /**
     * The organisation's answer. fixed / planned → answered (the verdict clock starts); not_ours → back to
     * submitted for a moderator to re-route (the cycle keeps its deadline on record).
     * `organisations`: the actor's organisations (null = may answer for any, admins).
     */
    async answer(id: number, actor: Actor, organisations: number[] | null, body: AnswerBody, list: StoredPhoto[]): Promise<StepResult & { previousOrganisation: number }> {
      const at = new Date(now());
      return db.transaction().execute(async (trx) => {
        const r = await lock(trx, id);
        expect(r, ['routed'], 'answer');
        if (organisations && !organisations.includes(r.organisation_id!)) throw new AppError('forbidden', 'This report is routed to another organisation');
        const cycle = await trx.selectFrom('city_cycles').select(['routed_at', 'deadline', 'escalated_at']).where('report_id', '=', id).where('seq', '=', r.cycle).executeTakeFirstOrThrow();
        const workingDays = workingDaysBetween(cycle.routed_at.getTime(), at.getTime(), deps.calendar);
        await trx
          .updateTable('city_cycles')
          .set({ answered_at: at, outcome: body.outcome, answer_working_days: workingDays })
          .where('report_id', '=', id)
          .where('seq', '=', r.cycle)
          .execute();
        await bumpBoard(
          trx,
          { routedAtMs: cycle.routed_at.getTime(), utcOffsetMinutes: deps.calendar.utcOffsetMinutes, organisationId: r.organisation_id!, district: r.district },
          // an escalated cycle was counted overdue in the rollup until now
          { answer: { onTime: at.getTime() <= cycle.deadline.getTime(), workingDays }, ...(cycle.escalated_at ? { overdue: -1 as const } : {}) },
        );
        const notOurs = body.outcome === 'not_ours';
        const patch: Updateable<CityReportTable> = notOurs
          ? { status: 'submitted', organisation_id: null, deadline: null, answered_at: null, outcome: null, planned_for: null }
          : { status: 'answered', answered_at: at, outcome: body.outcome, planned_for: body.plannedFor ?? null };
        const res = await apply(trx, id, at, patch, {
          ...blank,
          step: 'answered',
          actor,
          organisation_id: r.organisation_id,
          outcome: body.outcome,
          planned_for: body.plannedFor ?? null,
          note: body.text,
          deadline: r.deadline,
        });
        await photos(trx, id, res.seq, list);
        return { ...res, previousOrganisation: r.organisation_id! };
      });
    },

    async confirm(id: number, userId: number): Promise<StepResult> {
      const at = new Date(now());
      return db.transaction().execute(async (trx) => {
        const r = await lock(trx, id);
        if (r.reporter_id !== userId) throw new AppError('forbidden', 'Only the reporter judges the answer');
        expect(r, ['answered'], 'confirm');
        if (at.getTime() > r.answered_at!.getTime() + VERDICT_MS) throw new AppError('invalid_state', `The ${VERDICT_DAYS} days to judge the answer are over`, { status: r.status });
        return apply(trx, id, at, { status: 'closed', resolution: 'confirmed', closed_at: at }, { ...blank, step: 'confirmed', actor: { id: userId, role: 'resident' }, organisation_id: r.organisation_id });
      });
    },

    /** Back to the same organisation with a new deadline; the answered cycle is marked disputed. */
    async dispute(id: number, userId: number, comment: string): Promise<StepResult & { deadline: Date; cycle: number; remindAt: Date | null }> {
      const at = new Date(now());
      return db.transaction().execute(async (trx) => {
        const r = await lock(trx, id);
        if (r.reporter_id !== userId) throw new AppError('forbidden', 'Only the reporter judges the answer');
        expect(r, ['answered'], 'dispute');
        if (at.getTime() > r.answered_at!.getTime() + VERDICT_MS) throw new AppError('invalid_state', `The ${VERDICT_DAYS} days to judge the answer are over`, { status: r.status });
        const answered = await trx.updateTable('city_cycles').set({ disputed: true }).where('report_id', '=', id).where('seq', '=', r.cycle).returning(['routed_at', 'organisation_id']).executeTakeFirstOrThrow();
        await bumpBoard(trx, { routedAtMs: answered.routed_at.getTime(), utcOffsetMinutes: deps.calendar.utcOffsetMinutes, organisationId: answered.organisation_id, district: r.district }, { disputed: true });
        const { cycle, deadline, remindAt } = await newCycle(trx, r, r.organisation_id!, at);
        const res = await apply(
          trx, id, at,
          { status: 'routed', cycle, deadline, answered_at: null, outcome: null, planned_for: null, disputes: r.disputes + 1 },
          { ...blank, step: 'disputed', actor: { id: userId, role: 'resident' }, organisation_id: r.organisation_id, deadline, note: comment },
        );
        return { ...res, deadline, cycle, remindAt };
      });
    },

    /** No verdict within VERDICT_DAYS of the answer `answeredAt` → closed. null when not (yet) due or already moved on. */
    async autoClose(id: number, answeredAt: Date): Promise<StepResult | null> {
      const at = new Date(now());
      return db.transaction().execute(async (trx) => {
        const r = await lock(trx, id);
        if (r.status !== 'answered' || r.answered_at?.getTime() !== answeredAt.getTime()) return null;
        if (at.getTime() < r.answered_at.getTime() + VERDICT_MS) return null;
        return apply(trx, id, at, { status: 'closed', resolution: 'auto', closed_at: at }, { ...blank, step: 'closed', actor: { id: null, role: 'system' }, organisation_id: r.organisation_id });
      });
    },

    /**
     * The deadline jobs' marks: once per cycle (the cycle row's reminded_at/escalated_at is set in the same
     * transaction as the timeline entry), only while that cycle is the report's current one and unanswered,
     * and only when due: escalation once the deadline has passed, a reminder between its `remind_at` and the
     * deadline (none when the cycle has no `remind_at`). null = nothing to do (done, answered, re-routed, not due).
     */
    async mark(kind: 'reminded' | 'escalated', id: number, cycleSeq: number): Promise<(StepResult & { organisationId: number; deadline: Date }) | null> {
      const at = new Date(now());
      return db.transaction().execute(async (trx) => {
        const r = await lock(trx, id);
        if (r.status !== 'routed' || r.cycle !== cycleSeq) return null;
        const col = kind === 'reminded' ? 'reminded_at' : 'escalated_at';
        const c = await trx
          .updateTable('city_cycles')
          .set({ [col]: at })
          .where('report_id', '=', id)
          .where('seq', '=', cycleSeq)
          .where(col, 'is', null)
          .where('answered_at', 'is', null)
          // escalation at the deadline; a reminder from its time until the deadline (then escalation takes over)
          .where(kind === 'escalated' ? sql<boolean>`deadline <= ${at}` : sql<boolean>`remind_at <= ${at} and deadline > ${at}`)
          .returning(['organisation_id', 'deadline', 'routed_at'])
          .executeTakeFirst();
        if (!c) return null;
        // from now on the rollup counts this open cycle as overdue (the board stops reading it from the cycles)
        if (kind === 'escalated') {
          await bumpBoard(trx, { routedAtMs: c.routed_at.getTime(), utcOffsetMinutes: deps.calendar.utcOffsetMinutes, organisationId: c.organisation_id, district: r.district }, { overdue: 1 });
        }
        const res = await apply(trx, id, at, {}, { ...blank, step: kind, actor: { id: null, role: 'system' }, organisation_id: c.organisation_id, deadline: c.deadline });
        return { ...res, organisationId: c.organisation_id, deadline: c.deadline };
      });
    },

    /** Confirmed reports whose points were never recorded as credited (a crash between confirm and award). */
    async markPointsAwarded(id: number): Promise<void> {
      await db.updateTable('city_reports').set({ points_awarded_at: new Date(now()) }).where('id', '=', id).where('points_awarded_at', 'is', null).execute();
    },
  };
}
export type ReportSteps = ReturnType<typeof createReportSteps>;
