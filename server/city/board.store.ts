import { sql } from 'kysely';
import type { Db } from '../db/db.ts';
import { DISTRICTS, districtById } from '../../shared/districts.ts';
import type { Board, BoardQuery, BoardRow } from '../../shared/city.ts';

const DAY = 86_400_000;
const moscowDate = (ms: number, offsetMin: number) => new Date(ms + offsetMin * 60_000).toISOString().slice(0, 10);

/**
 * The accountability board, from the answer cycles (one per routing, with its deadline and answer):
 * per organisation or district, over the cycles routed in the period. A cycle is unanswered only while it
 * is its report's current one (every cycle ends with an answer), so "overdue now" needs no join.
 */
export function createBoardStore(db: Db) {
  return {
    async board(q: BoardQuery, opts: { utcOffsetMinutes: number; now?: number }): Promise<Board> {
      const now = opts.now ?? Date.now();
      const to = q.to ?? moscowDate(now, opts.utcOffsetMinutes);
      const from = q.from ?? moscowDate(now - 89 * DAY, opts.utcOffsetMinutes);
      const start = new Date(Date.parse(`${from}T00:00:00Z`) - opts.utcOffsetMinutes * 60_000);
      const end = new Date(Date.parse(`${to}T00:00:00Z`) + DAY - opts.utcOffsetMinutes * 60_000);
      const nowDate = new Date(now);
      const key = q.by === 'organisation' ? sql<string>`c.organisation_id::text` : sql<string>`c.district`;
      let query = db
        .selectFrom('city_cycles as c')
        .select([
          key.as('key'),
          sql<number>`count(distinct c.report_id)::int`.as('received'),
          sql<number>`(count(*) filter (where c.answered_at is not null))::int`.as('answered'),
          sql<number>`(count(*) filter (where c.answered_at <= c.deadline))::int`.as('on_time'),
          sql<number>`(count(*) filter (where c.answered_at is not null or c.deadline < ${nowDate}))::int`.as('due'),
          sql<number | null>`percentile_cont(0.5) within group (order by c.answer_working_days)`.as('median'),
          sql<number>`(count(*) filter (where c.answered_at is null and c.deadline < ${nowDate}))::int`.as('overdue'),
          sql<number>`(count(*) filter (where c.disputed))::int`.as('disputed'),
        ])
        .where('c.routed_at', '>=', start)
        .where('c.routed_at', '<', end)
        .groupBy(key)
        .orderBy(sql`2 desc`);
      if (q.okrug) query = query.where('c.district', 'in', DISTRICTS.filter((d) => d.okrug === q.okrug).map((d) => d.id));
      const rows = await query.execute();
      const names = new Map<string, { ru: string; en: string }>();
      if (q.by === 'organisation' && rows.length) {
        const orgs = await db.selectFrom('city_organisations').select(['id', 'name_ru', 'name_en']).where('id', 'in', rows.map((r) => Number(r.key))).execute();
        for (const o of orgs) names.set(String(o.id), { ru: o.name_ru, en: o.name_en });
      }
      const share = (n: number, d: number) => (d > 0 ? Math.round((n / d) * 1000) / 1000 : null);
      const out: BoardRow[] = rows.map((r) => ({
        key: r.key,
        name: names.get(r.key) ?? districtById(r.key)?.name ?? { ru: r.key, en: r.key },
        received: r.received,
        answered: r.answered,
        answeredOnTimeShare: share(r.on_time, r.due),
        medianAnswerWorkingDays: r.median === null ? null : Number(r.median),
        overdueNow: r.overdue,
        disputedShare: share(r.disputed, r.answered),
      }));
      return { by: q.by, from, to, rows: out };
    },
  };
}
export type BoardStore = ReturnType<typeof createBoardStore>;
