import { sql, type Insertable, type Transaction, type Updateable } from 'kysely';
import type { Database, CityReportTable, CityTimelineTable } from '../db/schema.ts';
import { AppError } from '../errors.ts';
import { addWorkingDays, warningBefore, type WorkCalendar } from '../decisions/working-days.ts';
import { REMINDER_WORKING_DAYS, type ReportStatus, type TimelineStep } from '../../shared/city.ts';
import { REPORT_COLUMNS, type ReportRow } from './report.store.ts';
import type { Actor, StepResult, StoredPhoto } from './report.steps.ts';

export type Trx = Transaction<Database>;
const returning = REPORT_COLUMNS;

/** The pieces every report step is made of, each inside the step's own transaction. */
export function createStepHelpers(calendar: WorkCalendar) {
  async function lock(trx: Trx, id: number): Promise<ReportRow> {
    const r = await trx.selectFrom('city_reports').select(returning).where('id', '=', id).forUpdate().executeTakeFirst();
    if (!r) throw new AppError('not_found', `No report ${id}`);
    return r as ReportRow;
  }

  function expect(r: ReportRow, statuses: readonly ReportStatus[], what: string) {
    if (!statuses.includes(r.status as ReportStatus)) {
      throw new AppError('invalid_state', `Cannot ${what}: the report is ${r.status}`, { status: r.status });
    }
  }

  /** The report update and its timeline entry (seq = the bumped timeline_seq), in the caller's transaction. */
  async function apply(
    trx: Trx,
    id: number,
    at: Date,
    patch: Updateable<CityReportTable>,
    entry: Omit<Insertable<CityTimelineTable>, 'report_id' | 'seq' | 'at' | 'actor_id' | 'actor_role'> & { actor: Actor },
  ): Promise<StepResult> {
    const report = (await trx
      .updateTable('city_reports')
      .set({ ...patch, timeline_seq: sql<number>`timeline_seq + 1`, updated_at: at })
      .where('id', '=', id)
      .returning(returning)
      .executeTakeFirstOrThrow()) as ReportRow;
    const { actor, ...rest } = entry;
    await trx.insertInto('city_timeline').values({ report_id: id, seq: report.timeline_seq, at, actor_id: actor.id, actor_role: actor.role, ...rest }).execute();
    return { report, step: entry.step as TimelineStep, seq: report.timeline_seq, at };
  }

  const blank = { organisation_id: null, note: null, outcome: null, planned_for: null, deadline: null, reason: null, merged_into: null };

  /** A new answer cycle: its deadline and when its organisation is reminded (null: a deadline too close for one). */
  async function newCycle(trx: Trx, r: ReportRow, organisationId: number, at: Date): Promise<{ cycle: number; deadline: Date; remindAt: Date | null }> {
    const cat = await trx.selectFrom('city_categories').select('deadline_days').where('code', '=', r.category).executeTakeFirstOrThrow();
    const deadline = new Date(addWorkingDays(at.getTime(), cat.deadline_days, calendar));
    const remindMs = warningBefore(at.getTime(), deadline.getTime(), REMINDER_WORKING_DAYS, calendar);
    const remindAt = remindMs === null ? null : new Date(remindMs);
    const cycle = r.cycle + 1;
    await trx.insertInto('city_cycles').values({ report_id: r.id, seq: cycle, organisation_id: organisationId, district: r.district, routed_at: at, deadline, remind_at: remindAt }).execute();
    return { cycle, deadline, remindAt };
  }

  async function photos(trx: Trx, id: number, timelineSeq: number, list: StoredPhoto[]) {
    if (list.length) await trx.insertInto('city_photos').values(list.map((p, idx) => ({ report_id: id, timeline_seq: timelineSeq, idx, ...p }))).execute();
  }

  return { lock, expect, apply, newCycle, photos, blank };
}
