import { sql, type Kysely, type Transaction } from 'kysely';
import type { Database } from '../db/schema.ts';

/** Answer times above this many working days share the last histogram bucket. */
export const MAX_BUCKET = 60;
/**
 * Block lengths in days; a block starts on a day whose number since 1970-01-01 is a multiple of its span.
 * Powers of two: a step writes 10 rows per scope (one statement), a 90-day period reads 6-10 blocks per key.
 */
export const SPANS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512] as const;
const DAY = 86_400_000;

export const cityDate = (ms: number, offsetMin: number) => new Date(ms + offsetMin * 60_000).toISOString().slice(0, 10);
const dayNumber = (day: string) => Math.floor(Date.parse(`${day}T00:00:00Z`) / DAY);
const dayOf = (n: number) => new Date(n * DAY).toISOString().slice(0, 10);
const mod = (n: number, m: number) => ((n % m) + m) % m;

/** The inclusive days [from, to] as the fewest aligned blocks: the rollup rows a period adds up. */
export function blocksOf(from: string, to: string): { span: number; day: string }[] {
  const out: { span: number; day: string }[] = [];
  const last = dayNumber(to);
  for (let a = dayNumber(from); a <= last; ) {
    const span = [...SPANS].reverse().find((s) => mod(a, s) === 0 && a + s - 1 <= last)!;
    out.push({ span, day: dayOf(a) });
    a += span;
  }
  return out;
}

/** What one step changes in a cycle's rows of the rollup. */
export type BoardDelta = {
  /** a routing (not the new cycle a dispute opens: the report was received once) */
  received?: boolean;
  answer?: { onTime: boolean; workingDays: number };
  disputed?: boolean;
  /** +1 when escalation marks an open cycle past its deadline, -1 when such a cycle is answered */
  overdue?: 1 | -1;
};

/**
 * The accountability board's rollup (city_board_rollup): per scope (`organisation`: key = its id,
 * `district`: key = the district id) and block of days in city time, one row per span (SPANS).
 * Each step that changes a cycle calls this in its own transaction — the rollup is written nowhere else.
 * The rows are the cycle's routing day's, so a period on the board means "cycles routed in it" for every
 * figure. answer_days[k + 1] counts answers given k working days after routing (k capped at MAX_BUCKET):
 * medians come from the summed histogram.
 */
export async function bumpBoard(
  trx: Transaction<Database>,
  at: { routedAtMs: number; utcOffsetMinutes: number; organisationId: number; district: string },
  d: BoardDelta,
): Promise<void> {
  const day = dayNumber(cityDate(at.routedAtMs, at.utcOffsetMinutes));
  const r = d.received ? 1 : 0;
  const a = d.answer ? 1 : 0;
  const t = d.answer?.onTime ? 1 : 0;
  const x = d.disputed ? 1 : 0;
  const o = d.overdue ?? 0;
  const k = d.answer ? Math.min(MAX_BUCKET, Math.max(0, d.answer.workingDays)) + 1 : 0;
  const fresh = d.answer ? sql`array_fill(0, array[${k - 1}::int]) || 1` : sql`'{}'::int[]`;
  const rows = (['organisation', 'district'] as const).flatMap((scope) =>
    SPANS.map((span) => sql`(${scope}, ${scope === 'organisation' ? String(at.organisationId) : at.district}, ${span}, ${dayOf(day - mod(day, span))}::date, ${r}, ${a}, ${t}, ${x}, ${o}, ${fresh})`),
  );
  await sql`
    insert into city_board_rollup (scope, key, span, day, received, answered, on_time, disputed, overdue_open, answer_days)
    values ${sql.join(rows)}
    on conflict (scope, span, day, key) do update set
      received = city_board_rollup.received + excluded.received, answered = city_board_rollup.answered + excluded.answered,
      on_time = city_board_rollup.on_time + excluded.on_time, disputed = city_board_rollup.disputed + excluded.disputed,
      overdue_open = city_board_rollup.overdue_open + excluded.overdue_open
      ${d.answer ? sql`, answer_days[${k}::int] = coalesce(city_board_rollup.answer_days[${k}::int], 0) + 1` : sql``}
  `.execute(trx);
}

/** One rollup row as recounted from the cycles: `hist` maps working days to answers (non-zero buckets only). */
export type RecountedRow = {
  scope: 'organisation' | 'district'; key: string; span: number; day: string;
  received: number; answered: number; on_time: number; disputed: number; overdue_open: number; hist: Record<string, number>;
};

/**
 * What the rollup must hold, counted straight from city_cycles: the check that the steps keep it (a test
 * compares the two) and the way to rebuild it. A cycle is "received" unless a dispute opened it (the
 * previous cycle of its report was disputed).
 */
export function recountBoard(utcOffsetMinutes: number) {
  const day = sql`((routed_at at time zone 'UTC') + make_interval(mins => ${utcOffsetMinutes}::int))::date`;
  return sql<RecountedRow>`
    with c as (
      select organisation_id::text org, district, ${day} as d, deadline, answered_at, disputed, escalated_at,
             least(${MAX_BUCKET}::int, greatest(0, answer_working_days)) bucket,
             coalesce(lag(disputed) over (partition by report_id order by seq), false) after_dispute
      from city_cycles
    ), keyed as (
      select k.scope, k.key, c.* from c cross join lateral (values ('organisation', c.org), ('district', c.district)) k(scope, key)
    ), day_sums as (
      select scope, key, d, (count(*) filter (where not after_dispute))::int received, count(answered_at)::int answered,
             (count(*) filter (where answered_at <= deadline))::int on_time, (count(*) filter (where disputed))::int disputed,
             (count(*) filter (where answered_at is null and escalated_at is not null))::int overdue_open
      from keyed group by 1, 2, 3
    ), day_hist as (
      select scope, key, d, bucket, count(*)::int n from keyed where answered_at is not null group by 1, 2, 3, 4
    ), spans as (
      select unnest(${sql.raw(`array[${SPANS.join(', ')}]`)}) span
    ), sums as (
      select scope, key, span, d - ((d - date '1970-01-01') % span) as day, sum(received)::int received, sum(answered)::int answered,
             sum(on_time)::int on_time, sum(disputed)::int disputed, sum(overdue_open)::int overdue_open
      from day_sums, spans group by 1, 2, 3, 4
    ), hist as (
      select scope, key, span, day, jsonb_object_agg(bucket, n) hist from (
        select scope, key, span, d - ((d - date '1970-01-01') % span) as day, bucket, sum(n)::int n from day_hist, spans group by 1, 2, 3, 4, 5
      ) b group by 1, 2, 3, 4
    )
    select scope, key, span, to_char(day, 'YYYY-MM-DD') as day, received, answered, on_time, disputed, overdue_open, coalesce(hist, '{}'::jsonb) hist
    from sums left join hist using (scope, key, span, day)
  `;
}

/** Replaces the rollup with the recount (one transaction): after a bulk load, or to repair drift. */
export async function rebuildBoardRollup(db: Kysely<Database>, utcOffsetMinutes: number): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await sql`delete from city_board_rollup`.execute(trx);
    await sql`
      insert into city_board_rollup (scope, key, span, day, received, answered, on_time, disputed, overdue_open, answer_days)
      select scope, key, span, day::date, received, answered, on_time, disputed, overdue_open,
             coalesce((select array_agg(coalesce((hist ->> g::text)::int, 0) order by g)
                       from generate_series(0, (select max(k::int) from jsonb_object_keys(hist) k)) g), '{}')
      from (${recountBoard(utcOffsetMinutes)}) r
      order by scope, span, day, key -- a block's rows side by side, as the steps write them day after day
    `.execute(trx);
  });
}
