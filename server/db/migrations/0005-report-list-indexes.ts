import { sql, type Kysely } from 'kysely';

/**
 * The public list's indexes: each filter column first, then the list's order (created_at desc, id desc), so
 * a page of ids and its capped count are read in order from the index alone (the list fetches the rows of
 * one page afterwards). The other filter columns ride along (INCLUDE), so a combination — a district's
 * closed road reports — is checked in the index without visiting the table; the status index carries the
 * deadline ("overdue now" = routed and past it).
 */
const INDEXES: [name: string, replaces: string, def: string][] = [
  ['city_reports_district_list', 'city_reports_district_created', '(district, created_at desc, id desc) include (status, category, organisation_id)'],
  ['city_reports_okrug_list', 'city_reports_okrug_created', '(okrug, created_at desc, id desc) include (status, category, organisation_id)'],
  ['city_reports_category_list', 'city_reports_category_created', '(category, created_at desc, id desc) include (status, okrug, organisation_id)'],
  ['city_reports_org_list', 'city_reports_org_created', '(organisation_id, created_at desc, id desc) include (status, category, district)'],
  ['city_reports_status_list', 'city_reports_status_created', '(status, created_at desc, id desc) include (deadline)'],
];

export async function up(db: Kysely<any>): Promise<void> {
  for (const [name, replaces, def] of INDEXES) {
    await sql`create index ${sql.id(name)} on city_reports ${sql.raw(def)}`.execute(db);
    await db.schema.dropIndex(replaces).ifExists().execute();
  }
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`create index if not exists city_reports_district_created on city_reports (district, created_at desc)`.execute(db);
  await sql`create index if not exists city_reports_okrug_created on city_reports (okrug, created_at desc)`.execute(db);
  await sql`create index if not exists city_reports_category_created on city_reports (category, created_at desc)`.execute(db);
  await sql`create index if not exists city_reports_org_created on city_reports (organisation_id, created_at desc)`.execute(db);
  await sql`create index if not exists city_reports_status_created on city_reports (status, created_at desc)`.execute(db);
  for (const [name] of INDEXES) await db.schema.dropIndex(name).ifExists().execute();
}
