import { sql, type Kysely } from 'kysely';

/**
 * The archive of finalised polls: one row per poll, written once after finalisation (the snapshot never
 * changes). `search` is a Russian full-text vector (stemming: "парки" finds "Парк") over the title (weight A),
 * the description (B) and the question and option texts (C); `public` is the anonymous archive's visibility.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('poll_archive')
    .addColumn('poll_id', 'integer', (c) => c.primaryKey())
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull())
    .addColumn('texts', 'text', (c) => c.notNull())
    .addColumn('public', 'boolean', (c) => c.notNull())
    .addColumn('ended_at', 'timestamptz', (c) => c.notNull())
    .addColumn('poll', 'jsonb', (c) => c.notNull())
    .addColumn('final', 'jsonb', (c) => c.notNull())
    .addColumn('search', sql`tsvector`, (c) =>
      c.generatedAlwaysAs(sql`setweight(to_tsvector('russian', title), 'A') || setweight(to_tsvector('russian', description), 'B') || setweight(to_tsvector('russian', texts), 'C')`).stored(),
    )
    .execute();
  await sql`create index poll_archive_search on poll_archive using gin (search)`.execute(db);
  await sql`create index poll_archive_ended on poll_archive (ended_at desc, poll_id desc)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('poll_archive').ifExists().execute();
}
