import type { AppContext } from '../../server/context.ts';
import type { User } from '../../shared/users.ts';
import type { Poll, PollCreate, PollFinal } from '../../shared/polls.ts';
import { finalisePoll } from '../../server/polls/lifecycle.jobs.ts';
import { publishedPoll } from './polls.ts';
import { testLogger } from './context.ts';

/** Answers cycling through the options of the helper poll (tests/helpers/polls.ts pollBody). */
export const answersFor = (i: number) => ({ q1: [['o1', 'o2', 'o3'][i % 3]], q2: [['o1', 'o2', 'o3', 'o4'][i % 4]] });

/**
 * A poll taken through the real path: published, a ballot cast by each voter through the ballot service's cast
 * (the one Lua step), closed, then finalised by the lifecycle job's own function (finalisePoll).
 */
export async function finalisedPoll(
  ctx: AppContext,
  moderator: User,
  voters: User[],
  overrides: Partial<PollCreate> = {},
  opts: { concurrency?: number } = {},
): Promise<{ poll: Poll; final: PollFinal }> {
  const p = await publishedPoll(ctx, moderator, { points: 0, ...overrides });
  let next = 0;
  const lane = async () => {
    for (let i = next++; i < voters.length; i = next++) await ctx.ballots.cast(p.id, voters[i], { answers: answersFor(i) });
  };
  await Promise.all(Array.from({ length: Math.min(opts.concurrency ?? 200, Math.max(1, voters.length)) }, lane));
  await ctx.polls.close(p.id);
  const { final } = await finalisePoll(ctx, p.id, testLogger);
  return { poll: (await ctx.polls.get(p.id))!, final };
}

/** Many residents with complete profiles, made through the user store (no sessions: they do not sign in). */
export async function manyResidents(ctx: AppContext, n: number, tag: string): Promise<User[]> {
  const out = new Array<User>(n);
  let next = 0;
  const districts = ['arbat', 'tverskoy', 'presnensky', 'khamovniki'];
  const lane = async () => {
    for (let i = next++; i < n; i = next++) {
      const { user } = await ctx.users.getOrCreateByPhone(`+7${tag}${String(i).padStart(6, '0')}`);
      out[i] = (await ctx.users.updateProfile(user.id, { district: districts[i % 4], birthYear: 1950 + (i % 50), gender: 'female' }))!;
    }
  };
  await Promise.all(Array.from({ length: Math.min(400, n) }, lane));
  return out;
}
