import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { testServer } from '../helpers/context.ts';
import { createTestUser } from '../helpers/users.ts';
import { createActivePoll } from '../helpers/live.ts';
import { connectSocket, ask, type ClientSocket } from '../helpers/sockets.ts';
import type { RunningServer } from '../../server/main.ts';
import type { PollView } from '../../shared/polls.ts';
import type { User } from '../../shared/users.ts';

const year = new Date().getUTCFullYear();
const TARGET = { districts: ['arbat', 'khamovniki'], minAge: 30, maxAge: 50 };

/**
 * The turnout's base on the moderator's dashboard: registered residents a poll's audience takes in,
 * counted from the eligible-base counters. Checked against a count made here from every user hash.
 */
describe('turnout base (registered residents eligible for a poll)', () => {
  let s: RunningServer & { url: string };
  let mod: Awaited<ReturnType<typeof createTestUser>>;
  const sockets: ClientSocket[] = [];

  /** A resident signed up with no profile, who then saves one through the API (as the profile form does). */
  const resident = async (profile: Partial<Pick<User, 'district' | 'birthYear' | 'gender'>> | null) => {
    const r = await createTestUser(s.ctx, { profile: null });
    if (profile) await setProfile(r.headers, profile);
    return r;
  };
  const setProfile = async (headers: Record<string, string>, profile: Partial<Pick<User, 'district' | 'birthYear' | 'gender'>>) => {
    const res = await fetch(`${s.url}/api/me`, { method: 'PATCH', headers, body: JSON.stringify(profile) });
    expect(res.status).toBe(200);
  };
  const view = async (pollId: number, headers: Record<string, string>) => (await (await fetch(`${s.url}/api/polls/${pollId}`, { headers })).json()) as PollView;

  /** Every user hash read back, and the audience applied here by hand. */
  const directCount = async (a: { districts: string[]; minAge: number | null; maxAge: number | null } | null) => {
    const last = await s.ctx.users.count();
    let n = 0;
    for (let id = 1; id <= last; id++) {
      const u = await s.ctx.users.get(id);
      if (!u) continue;
      if (!a) {
        n++;
        continue;
      }
      if (!u.district || !u.birthYear || !u.gender) continue;
      const age = year - u.birthYear;
      if ((a.districts.length === 0 || a.districts.includes(u.district)) && (a.minAge === null || age >= a.minAge) && (a.maxAge === null || age <= a.maxAge)) n++;
    }
    return n;
  };

  beforeAll(async () => {
    s = await testServer();
    mod = await createTestUser(s.ctx, { roles: ['moderator'], profile: null });
  });
  afterAll(async () => {
    for (const x of sockets) x.close();
    await s?.close();
  });

  it('when residents are in and out of a poll\'s district and age band, then its eligible count equals a direct count, and moves when a resident registers or updates their profile into or out of the target (HTTP and the staff socket; null for residents)', async () => {
    // inside: both districts, both age limits; outside: wrong district, a year too young or too old (two of
    // each, so counting ages in another year shows), no gender, no profile
    const inside = await Promise.all([
      resident({ district: 'arbat', birthYear: year - 30, gender: 'female' }),
      resident({ district: 'arbat', birthYear: year - 50, gender: 'male' }),
      resident({ district: 'khamovniki', birthYear: year - 41, gender: 'female' }),
    ]);
    const outside = await Promise.all([
      resident({ district: 'tverskoy', birthYear: year - 40, gender: 'female' }),
      resident({ district: 'arbat', birthYear: year - 29, gender: 'female' }),
      resident({ district: 'khamovniki', birthYear: year - 51, gender: 'male' }),
      resident({ district: 'khamovniki', birthYear: year - 29, gender: 'male' }),
      resident({ district: 'arbat', birthYear: year - 51, gender: 'female' }),
      resident({ district: 'arbat', birthYear: year - 40 }),
      resident(null),
    ]);
    const pollId = await createActivePoll(s.ctx, mod.user, { audience: TARGET });
    const cityWide = await createActivePoll(s.ctx, mod.user);

    const expected = await directCount(TARGET);
    expect(expected).toBe(inside.length);
    expect((await view(pollId, mod.headers)).eligibleResidents).toBe(expected);
    // city-wide: every registered resident, profile or not (the ballot check asks for none)
    expect((await view(cityWide, mod.headers)).eligibleResidents).toBe(await directCount(null));
    expect(await directCount(null)).toBe(1 + inside.length + outside.length);
    // residents never get it (HTTP, socket)
    expect((await view(pollId, inside[0].headers)).eligibleResidents).toBeNull();
    const residentSocket = await connectSocket(s.url, { cookie: inside[0].cookie });
    sockets.push(residentSocket);
    expect((await ask(residentSocket, 'poll:watch', { pollId })).data.eligibleResidents).toBeNull();

    const staffSocket = await connectSocket(s.url, { cookie: mod.cookie });
    sockets.push(staffSocket);
    const watched = async () => (await ask(staffSocket, 'poll:watch', { pollId })).data.eligibleResidents as number;
    expect(await watched()).toBe(expected);

    // a new resident registers and saves a profile inside the target
    await resident({ district: 'khamovniki', birthYear: year - 35, gender: 'male' });
    // one outside moves in (tverskoy -> arbat), one completes a profile inside (adds the gender)
    await setProfile(outside[0].headers, { district: 'arbat' });
    await setProfile(outside[5].headers, { gender: 'female' });
    // one inside moves out (khamovniki -> tverskoy)
    await setProfile(inside[2].headers, { district: 'tverskoy' });
    const after = await directCount(TARGET);
    expect(after).toBe(expected + 3 - 1);
    expect((await view(pollId, mod.headers)).eligibleResidents).toBe(after);
    expect(await watched()).toBe(after);
    expect((await view(cityWide, mod.headers)).eligibleResidents).toBe(await directCount(null));
  });

  it('when no registered resident is in a poll\'s audience, then its eligible count is 0', async () => {
    const pollId = await createActivePoll(s.ctx, mod.user, { audience: { districts: ['kurkino'], minAge: null, maxAge: null } });
    expect(await directCount({ districts: ['kurkino'], minAge: null, maxAge: null })).toBe(0);
    expect((await view(pollId, mod.headers)).eligibleResidents).toBe(0);
  });
});
