import type { AppContext } from '../../server/context.ts';
import type { Voter } from '../lib/seed.ts';
import { progress, round } from '../lib/util.ts';

export type MemoryResult = {
  sampledUsers: number;
  /** Bytes per registered user by key (MEMORY USAGE, averaged over the sample), and their sum. */
  perUser: Record<string, number> & { total: number };
  /** Bytes per ballot of one poll by key (whole-key MEMORY USAGE / ballots), and their sum. */
  perBallot: Record<string, number> & { total: number };
  ballots: number;
  /** Projection: 7.2M users and one 200k-voter poll, on one Redis and per master of a 3-master cluster. */
  projection: { users: number; voters: number; usersGB: number; pollMB: number; bitmapsMB: number; oneRedisGB: number; perMasterOf3GB: number };
};

const USERS = 7_200_000;
const VOTERS = 200_000;

/**
 * Redis memory of the data model, measured with MEMORY USAGE on real keys the bench created through the
 * project's stores and the vote path: per registered user (user hash, session, session index, points
 * account, award markers, points ledger, inbox when present) over a sample of voters of `pollId`, and
 * per ballot (the poll's ledger streams, tallies, breakdown, award queue, divided by its ballots; the
 * voter and awarded bitmaps are sized by the highest user id, so they are projected, not divided).
 */
export async function memoryPhase(ctx: AppContext, voters: Voter[], pollId: number, shards = 1): Promise<MemoryResult> {
  const r = ctx.redis;
  const k = ctx.keys;
  const sample = voters.slice(0, 500);
  const usage = async (key: string) => Number((await r.call('MEMORY', 'USAGE', key, 'SAMPLES', '0')) ?? 0);
  const perUser: Record<string, number> = {};
  const userKeys = (id: number, sid: string) => ({
    user: k.user(id),
    session: k.session(id, sid),
    sessionIndex: k.userSessions(id),
    pointsAccount: k.pointsAccount(id),
    pointsAwards: k.pointsAwards(id),
    pointsLedger: k.pointsLedger(id),
    inbox: k.inbox(id),
    inboxSeen: k.inboxSeen(id),
    inboxUnread: k.inboxUnread(id),
  });
  for (const v of sample) {
    const sid = v.cookie.split('=')[1];
    for (const [name, key] of Object.entries(userKeys(v.id, sid))) perUser[name] = (perUser[name] ?? 0) + (await usage(key));
  }
  for (const name of Object.keys(perUser)) perUser[name] = round(perUser[name] / sample.length, 0);
  // the phone -> id index: one hash for everybody
  perUser.phoneIndex = round((await usage(k.userByPhone())) / Math.max(1, await r.hlen(k.userByPhone())), 0);
  const userTotal = Object.values(perUser).reduce((a, b) => a + b, 0);

  const integrity = await ctx.ballots.integrity(pollId);
  const ballots = integrity.ballots;
  const perBallot: Record<string, number> = {};
  for (let s = 0; s < shards; s++) {
    for (const [name, key] of Object.entries({ ledger: k.pollLedger(pollId, s), tally: k.pollTally(pollId, s), breakdown: k.pollBreakdown(pollId, s), awardPending: k.pollAwardPending(pollId, s), awardTaken: k.pollAwardTaken(pollId, s) })) {
      perBallot[name] = (perBallot[name] ?? 0) + (await usage(key));
    }
  }
  for (const name of Object.keys(perBallot)) perBallot[name] = round(perBallot[name] / Math.max(1, ballots), 1);
  const ballotTotal = Object.values(perBallot).reduce((a, b) => a + b, 0);
  // bitmaps: one bit per possible user id in the voters and the awarded bitmap, whoever voted
  const bitmapsMB = (2 * USERS) / 8 / 1e6;
  const usersGB = (USERS * userTotal) / 1e9;
  const pollMB = (VOTERS * ballotTotal) / 1e6 + bitmapsMB;
  const oneRedisGB = usersGB + pollMB / 1e3;
  const projection = { users: USERS, voters: VOTERS, usersGB: round(usersGB, 2), pollMB: round(pollMB, 1), bitmapsMB: round(bitmapsMB, 1), oneRedisGB: round(oneRedisGB, 2), perMasterOf3GB: round(oneRedisGB / 3, 2) };
  progress(`memory: ${userTotal} B per user ${JSON.stringify(perUser)}; ${round(ballotTotal, 1)} B per ballot ${JSON.stringify(perBallot)} over ${ballots} ballots; projection ${JSON.stringify(projection)}`);
  return { sampledUsers: sample.length, perUser: { ...perUser, total: userTotal }, perBallot: { ...perBallot, total: round(ballotTotal, 1) }, ballots, projection };
}
