import { sql, type Selectable } from 'kysely';
import type { Db } from '../db/db.ts';
import type { CityReportTable, CityTimelineTable, CityPhotoTable } from '../db/schema.ts';
import type { Photo, ReportSummary, TimelineEntry } from '../../shared/city.ts';
import type { ReportListQuery, ReportPage } from '../../shared/city-lists.ts';
import { OPEN_STATUSES } from '../../shared/city.ts';
import { photoNames } from './photo.processor.ts';
import { workingDaysBetween, type WorkCalendar } from '../decisions/working-days.ts';

export type ReportRow = Selectable<Omit<CityReportTable, 'search'>>;
/** Page totals are counted up to this many (a count over a million rows is the slow part of a page). */
export const TOTAL_CAP = 1_000;

export const photoOf = (p: Pick<Selectable<CityPhotoTable>, 'hash' | 'width' | 'height' | 'bytes'>, base: string): Photo => {
  const n = photoNames(p.hash);
  return { hash: p.hash, url: `${base}/${n.full}`, thumbUrl: `${base}/${n.thumb}`, width: p.width, height: p.height, bytes: p.bytes };
};

/** Street-type and building words people write or leave out ("ул.", "пер.", "д.", "корп."). */
const ADDRESS_NOISE = new Set(['ул', 'улица', 'пер', 'переулок', 'пр', 'т', 'просп', 'проспект', 'б', 'р', 'бульвар', 'наб', 'набережная', 'пл', 'площадь', 'ш', 'шоссе', 'д', 'дом', 'корп', 'корпус', 'к', 'стр', 'строение']);

/** Lower-case words and numbers without street-type noise: "ул. Ленина, д.5" and "Ленина 5" match. */
export function addressKey(address: string): string {
  return address
    .toLowerCase()
    .replace(/ё/g, 'е')
    .split(/[^\p{L}\p{N}]+/u)
    .filter((w) => w && !ADDRESS_NOISE.has(w))
    .join(' ');
}

/** Every column of a report but the search vector: what reads select and steps return. */
export const REPORT_COLUMNS = [
  'id', 'reporter_id', 'category', 'district', 'okrug', 'address', 'address_key', 'lat', 'lng', 'description', 'status', 'organisation_id', 'cycle',
  'deadline', 'answered_at', 'outcome', 'planned_for', 'resolution', 'merged_into', 'reject_reason', 'disputes', 'supporters', 'timeline_seq',
  'points_awarded_at', 'created_at', 'updated_at', 'closed_at',
] as const;

/** Reads of reports: one report with its timeline and photos, filtered pages, the staff queues. */
export function createReportStore(db: Db, opts: { photoBase: string; calendar: WorkCalendar }) {
  const summaryOf = (r: ReportRow, thumbHash: string | null, now: number): ReportSummary => ({
    id: r.id,
    category: r.category,
    district: r.district,
    okrug: r.okrug,
    address: r.address,
    lat: r.lat,
    lng: r.lng,
    excerpt: r.description.length > 200 ? `${r.description.slice(0, 199)}…` : r.description,
    status: r.status as ReportSummary['status'],
    organisationId: r.organisation_id,
    deadline: r.deadline && (r.status === 'routed' || r.status === 'answered') ? r.deadline.toISOString() : null,
    overdue: r.status === 'routed' && r.deadline !== null && r.deadline.getTime() < now,
    workingDaysLeft: r.status === 'routed' && r.deadline !== null ? workingDaysBetween(now, r.deadline.getTime(), opts.calendar) : null,
    supporters: r.supporters,
    disputes: r.disputes,
    thumbUrl: thumbHash ? `${opts.photoBase}/${photoNames(thumbHash).thumb}` : null,
    createdAt: r.created_at.toISOString(),
    updatedAt: r.updated_at.toISOString(),
  });

  async function thumbs(ids: number[]): Promise<Map<number, string>> {
    if (!ids.length) return new Map();
    const rows = await db.selectFrom('city_photos').select(['report_id', 'hash']).where('report_id', 'in', ids).where('timeline_seq', '=', 0).where('idx', '=', 0).execute();
    return new Map(rows.map((r) => [r.report_id, r.hash]));
  }

  async function summaries(rows: ReportRow[]): Promise<ReportSummary[]> {
    const t = await thumbs(rows.map((r) => r.id));
    const now = Date.now();
    return rows.map((r) => summaryOf(r, t.get(r.id) ?? null, now));
  }

  type Filter = Partial<Omit<ReportListQuery, 'page' | 'pageSize' | 'sort'>> & { reporterOrSupporter?: number; organisations?: number[] };

  function filtered(f: Filter) {
    let q = db.selectFrom('city_reports');
    if (f.district?.length) q = q.where('district', 'in', f.district);
    if (f.okrug?.length) q = q.where('okrug', 'in', f.okrug);
    if (f.category?.length) q = q.where('category', 'in', f.category);
    if (f.status?.length) q = q.where('status', 'in', f.status);
    if (f.organisation?.length) q = q.where('organisation_id', 'in', f.organisation);
    if (f.organisations) q = q.where('organisation_id', 'in', f.organisations.length ? f.organisations : [-1]);
    if (f.overdue === true) q = q.where('status', '=', 'routed').where('deadline', '<', new Date());
    if (f.overdue === false) q = q.where((eb) => eb.or([eb('status', '!=', 'routed'), eb('deadline', '>=', new Date())]));
    if (f.q) {
      const text = f.q;
      q = q.where(sql<boolean>`search @@ websearch_to_tsquery('russian', ${text})`);
    }
    if (f.reporterOrSupporter !== undefined) {
      const u = f.reporterOrSupporter;
      q = q.where((eb) => eb.or([eb('reporter_id', '=', u), eb('id', 'in', eb.selectFrom('city_supports').select('report_id').where('user_id', '=', u))]));
    }
    return q;
  }

  /** `sort` as ORDER BY terms: the same for the page's ids and for its rows. */
  const orderOf = (sort: ReportListQuery['sort']) =>
    sort === 'newest' ? sql`created_at desc, id desc`
    : sort === 'oldest' ? sql`created_at asc, id asc`
    : sort === 'deadline' ? sql`deadline asc nulls last, id asc`
    : sql`supporters desc, id desc`;

  /**
   * One page. The capped count first; then the page's ids, then those rows (a far page's skipped rows are
   * never fetched). Few matches (all counted): they are taken by the filters' most selective index and
   * sorted — walking the order's index for a rare search term would read most of the table. Many: the
   * order's index yields a page after a short walk, the filters checked in the index where it carries them.
   */
  async function page(f: Filter, sort: ReportListQuery['sort'], pageNo: number, pageSize: number): Promise<ReportPage> {
    const order = orderOf(sort);
    const offset = (pageNo - 1) * pageSize;
    const count = await db
      .selectFrom(filtered(f).select(sql`1`.as('one')).limit(TOTAL_CAP).as('capped'))
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    const total = Number(count.n);
    if (total < TOTAL_CAP && total <= offset) return { items: [], page: pageNo, pageSize, total };
    const ids =
      total < TOTAL_CAP
        ? db
            .with((cte) => cte('m').materialized(), () => filtered(f).select(['id', 'created_at', 'deadline', 'supporters']))
            .selectFrom('m')
            .select('id')
            .orderBy(order)
            .limit(pageSize)
            .offset(offset)
        : filtered(f).select('id').orderBy(order).limit(pageSize).offset(offset);
    const rows = await db.selectFrom('city_reports').select(REPORT_COLUMNS).where('id', 'in', ids).orderBy(order).execute();
    return { items: await summaries(rows as ReportRow[]), page: pageNo, pageSize, total };
  }

  return {
    summaryOf,
    summaries,
    page,

    async row(id: number): Promise<ReportRow | null> {
      return ((await db.selectFrom('city_reports').select(REPORT_COLUMNS).where('id', '=', id).executeTakeFirst()) as ReportRow | undefined) ?? null;
    },

    async timeline(id: number): Promise<{ entries: (Selectable<CityTimelineTable>)[]; photos: Map<number, Photo[]> }> {
      const [entries, photos] = await Promise.all([
        db.selectFrom('city_timeline').selectAll().where('report_id', '=', id).orderBy('seq').execute(),
        db.selectFrom('city_photos').selectAll().where('report_id', '=', id).orderBy('timeline_seq').orderBy('idx').execute(),
      ]);
      const m = new Map<number, Photo[]>();
      for (const p of photos) (m.get(p.timeline_seq) ?? m.set(p.timeline_seq, []).get(p.timeline_seq)!).push(photoOf(p, opts.photoBase));
      return { entries, photos: m };
    },

    async supported(id: number, userId: number): Promise<boolean> {
      return Boolean(await db.selectFrom('city_supports').select('user_id').where('report_id', '=', id).where('user_id', '=', userId).executeTakeFirst());
    },

    async supporterIds(id: number): Promise<number[]> {
      return (await db.selectFrom('city_supports').select('user_id').where('report_id', '=', id).execute()).map((r) => r.user_id);
    },

    /** Open reports with the same category, district and address key (newest first). */
    async duplicates(category: string, district: string, address: string): Promise<ReportRow[]> {
      return (await db
        .selectFrom('city_reports')
        .select(REPORT_COLUMNS)
        .where('category', '=', category)
        .where('district', '=', district)
        .where('address_key', '=', addressKey(address))
        .where('status', 'in', [...OPEN_STATUSES])
        .orderBy('id', 'desc')
        .limit(5)
        .execute()) as ReportRow[];
    },

    /** Is any photo row still naming this hash (a file may be deleted only if not)? */
    async photoReferenced(hash: string): Promise<boolean> {
      return Boolean(await db.selectFrom('city_photos').select('hash').where('hash', '=', hash).limit(1).executeTakeFirst());
    },

    /** Reporter + supporters of a report, and the area followers of its district/category. */
    async alertFollowers(district: string, category: string): Promise<number[]> {
      const rows = await db
        .selectFrom('city_alerts')
        .select('user_id')
        .where(sql<boolean>`${district} = any(districts)`)
        .where(sql<boolean>`(cardinality(categories) = 0 or ${category} = any(categories))`)
        .limit(100_000)
        .execute();
      return rows.map((r) => r.user_id);
    },
  };
}
export type ReportStore = ReturnType<typeof createReportStore>;

/** A timeline row as the API shows it; `names` holds the staff actors' names when the viewer may see them. */
export function timelineEntryOf(e: Selectable<CityTimelineTable>, photos: Photo[], names: Map<number, string> | null): TimelineEntry {
  return {
    seq: e.seq,
    step: e.step as TimelineEntry['step'],
    at: e.at.toISOString(),
    actorRole: e.actor_role as TimelineEntry['actorRole'],
    actorName: names && e.actor_id !== null && e.actor_role !== 'resident' ? (names.get(e.actor_id) ?? null) : null,
    organisationId: e.organisation_id,
    note: e.note,
    outcome: e.outcome as TimelineEntry['outcome'],
    plannedFor: e.planned_for,
    deadline: e.deadline ? e.deadline.toISOString() : null,
    reason: e.reason as TimelineEntry['reason'],
    mergedInto: e.merged_into,
    photos,
  };
}
