import type { AppContext } from '../../server/context.ts';
import type { User } from '../../shared/users.ts';
import type { PollCreate } from '../../shared/polls.ts';

/**
 * A published poll that is active now (opened a minute ago, closes in an hour): one single-choice
 * question q1 with options a, b, c. Made through ctx.polls (create + publish), as a moderator would.
 */
export async function createActivePoll(ctx: AppContext, moderator: User, overrides: Partial<PollCreate> = {}): Promise<number> {
  const now = Date.now();
  const poll = await ctx.polls.create(
    {
      title: 'Which park gets the new playground?',
      questions: [
        {
          id: 'q1',
          text: 'Choose one',
          kind: 'single',
          options: [
            { id: 'a', label: 'Gorky Park' },
            { id: 'b', label: 'Sokolniki' },
            { id: 'c', label: 'Zaryadye' },
          ],
        },
      ],
      opensAt: new Date(now - 60_000).toISOString(),
      closesAt: new Date(now + 3_600_000).toISOString(),
      ...overrides,
    },
    moderator,
  );
  await ctx.polls.publish(poll.id);
  return poll.id;
}

/** A resident that exists only as a user id (for casting many ballots through the service quickly). */
export function syntheticResident(id: number): User {
  return {
    id,
    phone: `+7999${String(id).padStart(7, '0')}`,
    name: null,
    district: 'arbat',
    birthYear: 1990,
    gender: 'female',
    roles: ['resident'],
    profileComplete: true,
    createdAt: new Date().toISOString(),
  };
}
