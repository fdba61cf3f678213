import { sql, type Kysely, type Migration } from 'kysely';
import { warningBefore, type WorkCalendar } from '../../decisions/working-days.ts';
import { REMINDER_WORKING_DAYS } from '../../../shared/city.ts';

/**
 * Each answer cycle records when its organisation is to be reminded (`remind_at`, null: no reminder, the
 * deadline is REMINDER_WORKING_DAYS working days or fewer), so the worker's sweep can find reminders whose
 * delayed job never got queued, as it finds escalations, from a small partial index.
 * The backfill gives the open cycles (not answered, reminded or escalated) theirs, on the city's calendar.
 */
export function migration(ctx: { calendar: WorkCalendar }): Migration {
  return {
    async up(db: Kysely<any>) {
      await sql`alter table city_cycles add column remind_at timestamptz`.execute(db);
      const open = await sql<{ report_id: number; seq: number; routed_at: Date; deadline: Date }>`
        select report_id, seq, routed_at, deadline from city_cycles
        where answered_at is null and reminded_at is null and escalated_at is null
      `.execute(db);
      for (const c of open.rows) {
        const at = warningBefore(c.routed_at.getTime(), c.deadline.getTime(), REMINDER_WORKING_DAYS, ctx.calendar);
        if (at !== null) await sql`update city_cycles set remind_at = ${new Date(at)} where report_id = ${c.report_id} and seq = ${c.seq}`.execute(db);
      }
      await sql`create index city_cycles_remind_due on city_cycles (remind_at) where answered_at is null and reminded_at is null and escalated_at is null and remind_at is not null`.execute(db);
    },
    async down(db: Kysely<any>) {
      await db.schema.dropIndex('city_cycles_remind_due').ifExists().execute();
      await sql`alter table city_cycles drop column remind_at`.execute(db);
    },
  };
}
