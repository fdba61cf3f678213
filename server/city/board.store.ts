import { sql, type Transaction } from 'kysely';
import type { Db } from '../db/db.ts';
import type { Database } from '../db/schema.ts';
import { DISTRICTS, districtById } from '../../shared/districts.ts';
import type { Board, BoardQuery, BoardRow } from '../../shared/city.ts';

const DAY = 86_400_000;
/** Answer times above this many working days share the last histogram bucket. */
const MAX_BUCKET = 60;
const cityDate = (ms: number, offsetMin: number) => new Date(ms + offsetMin * 60_000).toISOString().slice(0, 10);

/**
 * One step's change to the board's daily rollup (city_board_daily), in the step's own transaction: a
 * routing received, an answer (on time or not, after how many working days), a dispute. The row is the
 * routing day's, so a period on the board means "reports routed in it" for every figure.
 */
export async function bumpBoardDay(
  trx: Transaction<Database>,
  at: { routedAtMs: number; utcOffsetMinutes: number; organisationId: number; district: string },
  d: { received?: boolean; answer?: { onTime: boolean; workingDays: number }; disputed?: boolean },
): Promise<void> {
  const day = cityDate(at.routedAtMs, at.utcOffsetMinutes);
  const r = d.received ? 1 : 0;
  const a = d.answer ? 1 : 0;
  const t = d.answer?.onTime ? 1 : 0;
  const x = d.disputed ? 1 : 0;
  const k = d.answer ? Math.min(MAX_BUCKET, Math.max(0, d.answer.workingDays)) + 1 : 0;
  const fresh = d.answer ? sql`array_fill(0, array[${k - 1}::int]) || 1` : sql`'{}'::int[]`;
  for (const [scope, key] of [['organisation', String(at.organisationId)], ['district', at.district]] as const) {
    await sql`
      insert into city_board_daily (scope, key, day, received, answered, on_time, disputed, answer_days)
      values (${scope}, ${key}, ${day}::date, ${r}, ${a}, ${t}, ${x}, ${fresh})
      on conflict (scope, day, key) do update set
        received = city_board_daily.received + ${r}, answered = city_board_daily.answered + ${a},
        on_time = city_board_daily.on_time + ${t}, disputed = city_board_daily.disputed + ${x}
        ${d.answer ? sql`, answer_days[${k}::int] = coalesce(city_board_daily.answer_days[${k}::int], 0) + 1` : sql``}
    `.execute(trx);
  }
}

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
 * daily rollup, medians from its histograms, and "overdue now" from the open cycles (a partial index).
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
      const period = sql`scope = ${q.by} and day between ${from}::date and ${to}::date ${keys}`;
      const [sums, hist, overdue] = await Promise.all([
        sql<{ key: string; received: number; answered: number; on_time: number; disputed: number }>`
          select key, sum(received)::int received, sum(answered)::int answered, sum(on_time)::int on_time, sum(disputed)::int disputed
          from city_board_daily where ${period} group by 1`.execute(db),
        sql<{ key: string; k: number; n: number }>`
          select key, h.k::int - 1 as k, sum(h.n)::int n
          from city_board_daily, unnest(answer_days) with ordinality h(n, k)
          where ${period} and h.n > 0 group by 1, 2`.execute(db),
        sql<{ key: string; n: number }>`
          select ${cycleKey} as key, count(*)::int n from city_cycles
          where answered_at is null and deadline < ${new Date(now)} and routed_at >= ${start} and routed_at < ${end} ${cycleKeys} group by 1`.execute(db),
      ]);
      const hists = new Map<string, Map<number, number>>();
      for (const h of hist.rows) (hists.get(h.key) ?? hists.set(h.key, new Map()).get(h.key)!).set(h.k, h.n);
      const overdueBy = new Map(overdue.rows.map((o) => [o.key, o.n]));
      const names = new Map<string, { ru: string; en: string }>();
      if (byOrg && sums.rows.length) {
        const orgs = await db.selectFrom('city_organisations').select(['id', 'name_ru', 'name_en']).where('id', 'in', sums.rows.map((r) => Number(r.key))).execute();
        for (const o of orgs) names.set(String(o.id), { ru: o.name_ru, en: o.name_en });
      }
      const share = (n: number, d: number) => (d > 0 ? Math.round((n / d) * 1000) / 1000 : null);
      const rows: BoardRow[] = sums.rows
        .map((r) => {
          const overdueNow = overdueBy.get(r.key) ?? 0;
          return {
            key: r.key,
            name: names.get(r.key) ?? districtById(r.key)?.name ?? { ru: r.key, en: r.key },
            received: r.received,
            answered: r.answered,
            answeredOnTimeShare: share(r.on_time, r.answered + overdueNow),
            medianAnswerWorkingDays: median(hists.get(r.key) ?? new Map()),
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
