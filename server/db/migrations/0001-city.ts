import { sql, type Kysely } from 'kysely';

/** Our City: catalogue (categories, organisations), reports, answer cycles, timeline, photos, supports, alerts. */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('city_categories')
    .addColumn('code', 'text', (c) => c.primaryKey())
    .addColumn('name_ru', 'text', (c) => c.notNull())
    .addColumn('name_en', 'text', (c) => c.notNull())
    .addColumn('org_kind', 'text', (c) => c.notNull())
    .addColumn('deadline_days', 'integer', (c) => c.notNull().check(sql`deadline_days between 1 and 60`))
    .addColumn('active', 'boolean', (c) => c.notNull().defaultTo(true))
    .addColumn('sort', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();

  await db.schema
    .createTable('city_organisations')
    .addColumn('id', 'serial', (c) => c.primaryKey())
    .addColumn('slug', 'text', (c) => c.notNull().unique())
    .addColumn('name_ru', 'text', (c) => c.notNull())
    .addColumn('name_en', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('active', 'boolean', (c) => c.notNull().defaultTo(true))
    .execute();

  await db.schema
    .createTable('city_org_districts')
    .addColumn('organisation_id', 'integer', (c) => c.notNull().references('city_organisations.id').onDelete('cascade'))
    .addColumn('district', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('city_org_districts_pk', ['organisation_id', 'district'])
    .execute();
  await db.schema.createIndex('city_org_districts_district').on('city_org_districts').column('district').execute();

  await db.schema
    .createTable('city_org_categories')
    .addColumn('organisation_id', 'integer', (c) => c.notNull().references('city_organisations.id').onDelete('cascade'))
    .addColumn('category', 'text', (c) => c.notNull().references('city_categories.code'))
    .addPrimaryKeyConstraint('city_org_categories_pk', ['organisation_id', 'category'])
    .execute();
  await db.schema.createIndex('city_org_categories_category').on('city_org_categories').column('category').execute();

  await db.schema
    .createTable('city_responders')
    .addColumn('user_id', 'integer', (c) => c.notNull())
    .addColumn('organisation_id', 'integer', (c) => c.notNull().references('city_organisations.id').onDelete('cascade'))
    .addPrimaryKeyConstraint('city_responders_pk', ['user_id', 'organisation_id'])
    .execute();

  await db.schema
    .createTable('city_reports')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('reporter_id', 'integer', (c) => c.notNull())
    .addColumn('category', 'text', (c) => c.notNull().references('city_categories.code'))
    .addColumn('district', 'text', (c) => c.notNull())
    .addColumn('okrug', 'text', (c) => c.notNull())
    .addColumn('address', 'text', (c) => c.notNull())
    .addColumn('address_key', 'text', (c) => c.notNull())
    .addColumn('lat', 'double precision')
    .addColumn('lng', 'double precision')
    .addColumn('description', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('organisation_id', 'integer', (c) => c.references('city_organisations.id'))
    .addColumn('cycle', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('deadline', 'timestamptz')
    .addColumn('answered_at', 'timestamptz')
    .addColumn('outcome', 'text')
    .addColumn('planned_for', 'date')
    .addColumn('resolution', 'text')
    .addColumn('merged_into', 'bigint', (c) => c.references('city_reports.id'))
    .addColumn('reject_reason', 'text')
    .addColumn('disputes', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('supporters', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('timeline_seq', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('points_awarded_at', 'timestamptz')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('closed_at', 'timestamptz')
    .addColumn('search', sql`tsvector`, (c) => c.generatedAlwaysAs(sql`to_tsvector('russian', address || ' ' || description)`).stored())
    .addCheckConstraint('city_reports_status', sql`status in ('submitted','routed','answered','closed','rejected','merged')`)
    .execute();
  await db.schema.createIndex('city_reports_search').on('city_reports').using('gin').column('search').execute();
  await db.schema.createIndex('city_reports_created').on('city_reports').columns(['created_at desc', 'id desc']).execute();
  await db.schema.createIndex('city_reports_status_created').on('city_reports').columns(['status', 'created_at desc']).execute();
  await db.schema.createIndex('city_reports_district_created').on('city_reports').columns(['district', 'created_at desc']).execute();
  await db.schema.createIndex('city_reports_okrug_created').on('city_reports').columns(['okrug', 'created_at desc']).execute();
  await db.schema.createIndex('city_reports_category_created').on('city_reports').columns(['category', 'created_at desc']).execute();
  await db.schema.createIndex('city_reports_org_status_deadline').on('city_reports').columns(['organisation_id', 'status', 'deadline']).execute();
  await db.schema.createIndex('city_reports_reporter').on('city_reports').columns(['reporter_id', 'created_at desc']).execute();
  await db.schema
    .createIndex('city_reports_open_dupe')
    .on('city_reports')
    .columns(['category', 'district', 'address_key'])
    .where(sql.ref('status'), 'in', ['submitted', 'routed', 'answered'])
    .execute();

  await db.schema
    .createTable('city_cycles')
    .addColumn('report_id', 'bigint', (c) => c.notNull().references('city_reports.id'))
    .addColumn('seq', 'integer', (c) => c.notNull())
    .addColumn('organisation_id', 'integer', (c) => c.notNull().references('city_organisations.id'))
    .addColumn('district', 'text', (c) => c.notNull())
    .addColumn('routed_at', 'timestamptz', (c) => c.notNull())
    .addColumn('deadline', 'timestamptz', (c) => c.notNull())
    .addColumn('answered_at', 'timestamptz')
    .addColumn('answer_working_days', 'integer')
    .addColumn('outcome', 'text')
    .addColumn('disputed', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('reminded_at', 'timestamptz')
    .addColumn('escalated_at', 'timestamptz')
    .addPrimaryKeyConstraint('city_cycles_pk', ['report_id', 'seq'])
    .execute();
  await db.schema.createIndex('city_cycles_org_routed').on('city_cycles').columns(['organisation_id', 'routed_at']).execute();
  await db.schema.createIndex('city_cycles_district_routed').on('city_cycles').columns(['district', 'routed_at']).execute();
  await db.schema.createIndex('city_cycles_routed').on('city_cycles').column('routed_at').execute();
  await db.schema.createIndex('city_cycles_open_deadline').on('city_cycles').column('deadline').where(sql.ref('answered_at'), 'is', null).execute();

  await db.schema
    .createTable('city_timeline')
    .addColumn('report_id', 'bigint', (c) => c.notNull().references('city_reports.id'))
    .addColumn('seq', 'integer', (c) => c.notNull())
    .addColumn('step', 'text', (c) => c.notNull())
    .addColumn('at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('actor_id', 'integer')
    .addColumn('actor_role', 'text', (c) => c.notNull())
    .addColumn('organisation_id', 'integer')
    .addColumn('note', 'text')
    .addColumn('outcome', 'text')
    .addColumn('planned_for', 'date')
    .addColumn('deadline', 'timestamptz')
    .addColumn('reason', 'text')
    .addColumn('merged_into', 'bigint')
    .addPrimaryKeyConstraint('city_timeline_pk', ['report_id', 'seq'])
    .execute();

  await db.schema
    .createTable('city_photos')
    .addColumn('report_id', 'bigint', (c) => c.notNull().references('city_reports.id'))
    .addColumn('timeline_seq', 'integer', (c) => c.notNull())
    .addColumn('idx', 'integer', (c) => c.notNull())
    .addColumn('hash', 'text', (c) => c.notNull())
    .addColumn('width', 'integer', (c) => c.notNull())
    .addColumn('height', 'integer', (c) => c.notNull())
    .addColumn('bytes', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('city_photos_pk', ['report_id', 'timeline_seq', 'idx'])
    .execute();
  await db.schema.createIndex('city_photos_hash').on('city_photos').column('hash').execute();

  await db.schema
    .createTable('city_supports')
    .addColumn('report_id', 'bigint', (c) => c.notNull().references('city_reports.id'))
    .addColumn('user_id', 'integer', (c) => c.notNull())
    .addColumn('at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('city_supports_pk', ['report_id', 'user_id'])
    .execute();
  await db.schema.createIndex('city_supports_user').on('city_supports').column('user_id').execute();

  await db.schema
    .createTable('city_alerts')
    .addColumn('user_id', 'integer', (c) => c.primaryKey())
    .addColumn('districts', sql`text[]`, (c) => c.notNull())
    .addColumn('categories', sql`text[]`, (c) => c.notNull())
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('city_alerts_districts').on('city_alerts').using('gin').column('districts').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const t of ['city_alerts', 'city_supports', 'city_photos', 'city_timeline', 'city_cycles', 'city_reports', 'city_responders', 'city_org_categories', 'city_org_districts', 'city_organisations', 'city_categories']) {
    await db.schema.dropTable(t).ifExists().execute();
  }
}
