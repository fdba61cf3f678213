import { sql } from 'kysely';
import type { Db } from '../db/db.ts';
import { pollFinalSchema, pollSchema, type Poll, type PollFinal } from '../../shared/polls.ts';
import { inFeed } from '../polls/poll.access.ts';

/** When a poll stopped taking votes: an early close ends before closesAt. */
export const endedAt = (p: Pick<Poll, 'closedAt' | 'closesAt' | 'updatedAt'>) => p.closedAt ?? p.closesAt ?? p.updatedAt;

/** LIKE's wildcards and escape taken literally (the search text is a value, never a pattern). */
const likeLiteral = (s: string) => `%${s.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

/**
 * The finalised polls in PostgreSQL, searchable in Russian with stemming. A row is written once (the
 * snapshot never changes): a second write of the same poll is a no-op, so retries and sweeps are safe.
 */
export function createArchiveStore(db: Db) {
  const matching = (q: string, publicOnly: boolean) => {
    let base = db.selectFrom('poll_archive');
    if (publicOnly) base = base.where('public', '=', true);
    if (!q) return base;
    return base.where((eb) =>
      eb.or([
        eb(sql<string>`search`, '@@', sql<string>`websearch_to_tsquery('russian', ${q})`),
        eb('title', 'ilike', likeLiteral(q)),
        eb('description', 'ilike', likeLiteral(q)),
        eb('texts', 'ilike', likeLiteral(q)),
      ]),
    );
  };

  return {
    /** Inserts the archive row of a finalised poll; false when it was already there. */
    async put(poll: Poll, final: PollFinal): Promise<boolean> {
      const texts = poll.questions.flatMap((q) => [q.text, ...q.options.map((o) => o.label)]).join('\n');
      const r = await db
        .insertInto('poll_archive')
        .values({
          poll_id: poll.id,
          title: poll.title,
          description: poll.description ?? '',
          texts,
          // the archive's anonymous visibility is the feed's rule for an ended poll
          public: inFeed(poll, null),
          ended_at: endedAt(poll),
          poll: JSON.stringify(poll),
          final: JSON.stringify(final),
        })
        .onConflict((oc) => oc.column('poll_id').doNothing())
        .executeTakeFirst();
      return Number(r.numInsertedOrUpdatedRows ?? 0) > 0;
    },

    /** The ids among `ids` that have their row. */
    async archived(ids: number[]): Promise<Set<number>> {
      if (!ids.length) return new Set();
      const rows = await db.selectFrom('poll_archive').select('poll_id').where('poll_id', 'in', ids).execute();
      return new Set(rows.map((r) => r.poll_id));
    },

    /**
     * A page of matches, most recently ended first, and how many match in all. `q` matches by Russian full
     * text (stems) or as a substring, over the title, description, questions and options.
     */
    async search(q: string, opts: { publicOnly: boolean; offset: number; limit: number }): Promise<{ items: { poll: Poll; final: PollFinal }[]; total: number }> {
      const base = matching(q, opts.publicOnly);
      const [rows, count] = await Promise.all([
        base.select(['poll', 'final']).orderBy('ended_at', 'desc').orderBy('poll_id', 'desc').offset(opts.offset).limit(opts.limit).execute(),
        base.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
      ]);
      return { items: rows.map((r) => ({ poll: pollSchema.parse(r.poll), final: pollFinalSchema.parse(r.final) })), total: Number(count.n) };
    },

    /** For each (endedAt, id): how many matches sort before it (ended later, or at the same time with a higher id). */
    async before(q: string, opts: { publicOnly: boolean }, points: { endedAt: string; id: number }[]): Promise<number[]> {
      return Promise.all(
        points.map(async (pt) => {
          const r = await matching(q, opts.publicOnly)
            .where(sql<boolean>`(ended_at, poll_id) > (${pt.endedAt}::timestamptz, ${pt.id})`)
            .select((eb) => eb.fn.countAll<number>().as('n'))
            .executeTakeFirstOrThrow();
          return Number(r.n);
        }),
      );
    },
  };
}
export type ArchiveStore = ReturnType<typeof createArchiveStore>;
