import { sql } from 'kysely';
import type { Db } from '../db/db.ts';
import { blocksOf, cityDate } from './board.rollup.ts';
import { DISTRICTS, districtById } from '../../shared/districts.ts';
import type { Board, BoardQuery, BoardRow } from '../../shared/city-lists.ts';

const DAY = 86_400_000;

/** The median of a histogram (index = working days), interpolated between the two middle values like percentile_cont. */
function median(hist: Map<number, number>): number | null {
  const total = [...hist.values()].reduce((s, n) => s + n, 0);
  if (!total) return null;
  const at = (rank: number) => {
    let seen = 0;
    for (const [k, n] of [...hist].sort((p, q) => p[0] - q[0])) if ((seen += n) > rank) return k;
    return 0;
  };
  return (at(Math.floor((total - 1) / 2)) + at(Math.ceil((total - 1) / 2))) / 2;
}

/**
 * The accountability board per organisation or district over the routing days of a period: sums of the
 * rollup's blocks (board.rollup.ts), medians from its histograms. "Overdue now" = the rollup's open cycles that
 * escalation has marked + the open cycles past their deadline it has not marked yet (a late or dead worker
 * hides nothing; the partial index holds only unmarked open cycles, so this reads a handful of rows).
 */
export function createBoardStore(db: Db) {
  return {
    async board(q: BoardQuery, opts: { utcOffsetMinutes: number; now?: number }): Promise<Board> {
      const now = opts.now ?? Date.now();
      const off = opts.utcOffsetMinutes;
      const to = q.to ?? cityDate(now, off);
      const from = q.from ?? cityDate(now - 89 * DAY, off);
      const start = new Date(Date.parse(`${from}T00:00:00Z`) - off * 60_000);
      const end = new Date(Date.parse(`${to}T00:00:00Z`) + DAY - off * 60_000);
      const byOrg = q.by === 'organisation';
      const okrugDistricts = q.okrug ? DISTRICTS.filter((d) => d.okrug === q.okrug).map((d) => d.id) : null;
      // an okrug narrows the district board to its districts, the organisation board to the organisations
      // serving one of them (city-wide services serve no listed district)
      const keys = !okrugDistricts
        ? sql``
        : byOrg
          ? sql`and key in (select organisation_id::text from city_org_districts where district = any(${okrugDistricts}::text[]))`
          : sql`and key = any(${okrugDistricts}::text[])`;
      const cycleKey = byOrg ? sql<string>`organisation_id::text` : sql<string>`district`;
      const cycleKeys = !okrugDistricts
        ? sql``
        : byOrg
          ? sql`and organisation_id in (select organisation_id from city_org_districts where district = any(${okrugDistricts}::text[]))`
          : sql`and district = any(${okrugDistricts}::text[])`;
      // nothing is routed before 1970 or after today: the clamped period holds the same rows in fewer blocks
      const blocks = blocksOf(from < '1970-01-01' ? '1970-01-01' : from, to > cityDate(now, off) ? cityDate(now, off) : to);
      // one statement, one round trip: the period's blocks of the rollup read once, their sums and
      // answer-time histograms, the open cycles past their deadline that escalation has not counted yet,
      // each grouped by key, joined with the organisations' names
      const { rows: found } = await sql<{
        key: string; received: number; answered: number; on_time: number; disputed: number; overdue_open: number;
        overdue: number | null; hist: Record<string, number> | null; name_ru: string | null; name_en: string | null;
      }>`
        with r as materialized (
          select key, received, answered, on_time, disputed, overdue_open, answer_days
          from city_board_rollup join unnest(${blocks.map((b) => b.span)}::int[], ${blocks.map((b) => b.day)}::date[]) p(span, day) using (span, day)
          where scope = ${q.by} ${keys}
        ), sums as (
          select key, sum(received)::int received, sum(answered)::int answered, sum(on_time)::int on_time, sum(disputed)::int disputed,
                 sum(overdue_open)::int overdue_open
          from r group by 1
        ), hist as (
          select key, jsonb_object_agg(k, n) hist from (
            select key, h.k::int - 1 as k, sum(h.n)::int n
            from r, unnest(answer_days) with ordinality h(n, k)
            where h.n > 0 group by 1, 2
          ) x group by 1
        ), overdue as (
          select ${cycleKey} as key, count(*)::int n from city_cycles
          where answered_at is null and escalated_at is null and deadline < ${new Date(now)} and routed_at >= ${start} and routed_at < ${end} ${cycleKeys}
          group by 1
        )
        select sums.*, overdue.n overdue, hist.hist, o.name_ru, o.name_en
        from sums left join hist using (key) left join overdue using (key)
        left join city_organisations o on ${byOrg} and o.id::text = sums.key
      `.execute(db);
      const share = (n: number, d: number) => (d > 0 ? Math.round((n / d) * 1000) / 1000 : null);
      const rows: BoardRow[] = found
        .map((r) => {
          const overdueNow = r.overdue_open + (r.overdue ?? 0);
          return {
            key: r.key,
            name: r.name_ru !== null && r.name_en !== null ? { ru: r.name_ru, en: r.name_en } : (districtById(r.key)?.name ?? { ru: r.key, en: r.key }),
            received: r.received,
            answered: r.answered,
            answeredOnTimeShare: share(r.on_time, r.answered + overdueNow),
            medianAnswerWorkingDays: median(new Map(Object.entries(r.hist ?? {}).map(([k, n]) => [Number(k), n]))),
            overdueNow,
            disputedShare: share(r.disputed, r.answered),
          };
        })
        .sort((a, b) => b.received - a.received || a.key.localeCompare(b.key));
      return { by: q.by, from, to, rows };
    },
  };
}
export type BoardStore = ReturnType<typeof createBoardStore>;
