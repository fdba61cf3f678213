import { loadConfig } from '../../server/config.ts';
import { createLogger } from '../../server/logger.ts';
import { createContext, type AppContext } from '../../server/context.ts';
import type { PollCreate } from '../../shared/polls.ts';
import type { User } from '../../shared/users.ts';
import type { Platform } from './platform.ts';

/** The orchestrator's own view of the platform: the project's context (stores, services) on its Redis. */
export function benchContext(p: Platform): AppContext {
  const config = loadConfig({ ...p.env, PORT: '0', LOG_LEVEL: 'silent' });
  return createContext(config, createLogger({ name: 'bench', level: 'silent' }), { processName: 'bench' });
}

export const PROBE_Q = 'q1';
export const PROBE_O = 'probe';

/**
 * A city-wide poll shaped like a real one: q1 single (3 options + `probe`, chosen only by the fan-out
 * phase's probe voter), q2 multi (max 2 of 4), q3 optional yes/no. Open now, closes in 2 hours.
 */
export function benchPollBody(overrides: Partial<PollCreate> = {}): PollCreate {
  const now = Date.now();
  return {
    title: 'Which improvements should the district get first?',
    description: 'Benchmark poll.',
    questions: [
      {
        id: 'q1',
        text: 'Priority',
        kind: 'single',
        options: [
          { id: 'o1', label: 'Parks' },
          { id: 'o2', label: 'Roads' },
          { id: 'o3', label: 'Schools' },
          { id: PROBE_O, label: 'Probe' },
        ],
      },
      {
        id: 'q2',
        text: 'Amenities',
        kind: 'multi',
        maxChoices: 2,
        options: [
          { id: 'o1', label: 'Playground' },
          { id: 'o2', label: 'Dog run' },
          { id: 'o3', label: 'Cafe' },
          { id: 'o4', label: 'Pond' },
        ],
      },
      { id: 'q3', text: 'Anything else?', kind: 'single', required: false, options: [{ id: 'yes', label: 'Yes' }, { id: 'no', label: 'No' }] },
    ],
    opensAt: new Date(now - 1000).toISOString(),
    closesAt: new Date(now + 2 * 3600_000).toISOString(),
    points: 10,
    ...overrides,
  };
}

/** Real ballot bodies for the poll above (never the probe option). */
export function ballotBodies(): string[] {
  const out: string[] = [];
  const q2 = [['o1'], ['o2', 'o3'], ['o4'], ['o1', 'o4']];
  for (const q1 of ['o1', 'o2', 'o3'])
    for (const a of q2) {
      out.push(JSON.stringify({ answers: { q1: [q1], q2: a } }));
      out.push(JSON.stringify({ answers: { q1: [q1], q2: a, q3: [q1 === 'o2' ? 'yes' : 'no'] } }));
    }
  return out;
}
export const probeBody = () => JSON.stringify({ answers: { q1: [PROBE_O], q2: ['o1'] } });

let moderator: User | null = null;
export async function benchModerator(ctx: AppContext): Promise<User> {
  if (moderator) return moderator;
  const { user } = await ctx.users.getOrCreateByPhone('+79990000000');
  moderator = (await ctx.users.setRoles(user.id, ['moderator']))!;
  return moderator;
}

/** Create and publish through the polls service, as a moderator would. */
export async function publishedPoll(ctx: AppContext, overrides: Partial<PollCreate> = {}): Promise<number> {
  const mod = await benchModerator(ctx);
  const draft = await ctx.polls.create(benchPollBody(overrides), mod);
  await ctx.polls.publish(draft.id);
  return draft.id;
}

const DISTRICTS = ['arbat', 'tverskoy', 'presnensky', 'khamovniki', 'basmanny', 'zamoskvorechye', 'meshchansky', 'yakimanka'];

/** A resident with a complete profile, in memory only (the cast path needs id, district, birth year). */
export function syntheticResident(id: number): User {
  return {
    id,
    phone: `+7998${String(id).padStart(7, '0')}`,
    name: null,
    district: DISTRICTS[id % DISTRICTS.length],
    birthYear: 1950 + (id % 55),
    gender: 'unspecified',
    roles: ['resident'],
    profileComplete: true,
    createdAt: new Date(0).toISOString(),
  };
}
