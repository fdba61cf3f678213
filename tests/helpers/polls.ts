import type { AppContext } from '../../server/context.ts';
import type { User } from '../../shared/users.ts';
import type { Poll, PollCreate } from '../../shared/polls.ts';

/** A valid draft body: q1 single (o1..o3), q2 multi max 2 (o1..o4), q3 optional single (yes/no). */
export function pollBody(overrides: Partial<PollCreate> = {}): PollCreate {
  const now = Date.now();
  return {
    title: 'Where should the new park go?',
    description: 'Pick a place and the amenities you want.',
    questions: [
      { id: 'q1', text: 'Location', kind: 'single', options: [{ id: 'o1', label: 'North' }, { id: 'o2', label: 'South' }, { id: 'o3', label: 'East' }] },
      {
        id: 'q2',
        text: 'Amenities',
        kind: 'multi',
        maxChoices: 2,
        options: [{ id: 'o1', label: 'Playground' }, { id: 'o2', label: 'Dog run' }, { id: 'o3', label: 'Cafe' }, { id: 'o4', label: 'Pond' }],
      },
      { id: 'q3', text: 'Anything else?', kind: 'single', required: false, options: [{ id: 'yes', label: 'Yes' }, { id: 'no', label: 'No' }] },
    ],
    opensAt: new Date(now - 1000).toISOString(),
    closesAt: new Date(now + 3600_000).toISOString(),
    points: 10,
    ...overrides,
  };
}

/** Create and publish through the service (the moderator routes are tested separately). */
export async function publishedPoll(ctx: AppContext, moderator: User, overrides: Partial<PollCreate> = {}): Promise<Poll> {
  const draft = await ctx.polls.create(pollBody(overrides), moderator);
  return ctx.polls.publish(draft.id);
}

/**
 * Every key of a poll (poll slot and shard slots) with its DUMP, to prove a request changed nothing — except
 * the open count's `:counts`, which a refused ballot moves by design (its refusal is counted).
 */
export async function pollSnapshot(ctx: AppContext, pollId: number): Promise<Record<string, string | null>> {
  const keys = new Set<string>();
  for (const pattern of [`${ctx.keys.prefix}poll:{p:${pollId}}*`, `${ctx.keys.prefix}poll:{p:${pollId}.s*`]) {
    let cursor = '0';
    do {
      const [next, batch] = await ctx.redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      batch.filter((k) => !k.endsWith(':counts')).forEach((k) => keys.add(k));
    } while (cursor !== '0');
  }
  const out: Record<string, string | null> = {};
  for (const k of [...keys].sort()) out[k] = (await ctx.redis.dumpBuffer(k))?.toString('base64') ?? null;
  return out;
}
