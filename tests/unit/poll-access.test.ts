import { describe, it, expect } from 'vitest';
import { audienceYear, canSeeResults, inFeed, isStaff, type AccessPoll } from '../../server/polls/poll.access.ts';
import type { User } from '../../shared/users.ts';

const city = { districts: [], minAge: null, maxAge: null };
const arbatOnly = { districts: ['arbat'], minAge: null, maxAge: null };
const poll = (status: AccessPoll['status'], extra: Partial<AccessPoll> = {}): AccessPoll => ({ status, audience: city, publicLive: false, publicResults: true, ...extra });
const user = (p: Partial<User> = {}): User => ({ id: 7, phone: '+7', name: 'n', district: 'tverskoy', birthYear: 1990, gender: 'male', roles: ['resident'], profileComplete: true, createdAt: '', ...p });
const resident = user();

describe('poll access policy (HTTP, sockets, archive and open data share it)', () => {
  it('when a moderator, official or admin asks, then they are staff and always see results, even of a draft', () => {
    for (const role of ['moderator', 'official', 'admin'] as const) {
      expect(isStaff(user({ roles: [role] })), role).toBe(true);
      for (const st of ['draft', 'scheduled', 'active', 'closed', 'finalised'] as const) {
        expect(canSeeResults(poll(st, { audience: arbatOnly, publicResults: false }), user({ roles: [role] }), false), `${role} ${st}`).toBe(true);
      }
    }
    expect(isStaff(resident)).toBe(false);
    expect(isStaff(null)).toBe(false);
  });

  it('when a resident has not voted, then results are hidden while the poll is open and shown once it is closed to its audience or when public', () => {
    expect(canSeeResults(poll('active'), resident, false)).toBe(false);
    expect(canSeeResults(poll('closed'), resident, false)).toBe(true);
    expect(canSeeResults(poll('finalised'), resident, false)).toBe(true);
    expect(canSeeResults(poll('closed', { publicResults: false }), resident, false)).toBe(true); // in the audience
    expect(canSeeResults(poll('closed', { publicResults: false, audience: arbatOnly }), resident, false)).toBe(false);
  });

  it('when a poll is public-live and active, then anyone sees its results: anonymous and signed-in non-voters alike', () => {
    expect(canSeeResults(poll('active', { publicLive: true }), null, false)).toBe(true);
    expect(canSeeResults(poll('active', { publicLive: true }), resident, false)).toBe(true);
    expect(canSeeResults(poll('active', { publicLive: true, audience: arbatOnly }), resident, false)).toBe(true);
  });

  it('when a public-live poll is not active, then the ordinary rule applies', () => {
    expect(canSeeResults(poll('scheduled', { publicLive: true }), null, false)).toBe(false);
    expect(canSeeResults(poll('closed', { publicResults: false, publicLive: true }), null, false)).toBe(false);
  });

  it('when a resident has voted, then they see results live and after close', () => {
    expect(canSeeResults(poll('active'), resident, true)).toBe(true);
    expect(canSeeResults(poll('closed', { publicResults: false, audience: arbatOnly }), resident, true)).toBe(true);
  });

  it('when anonymous, then closed results only if public and no live results unless public-live', () => {
    expect(canSeeResults(poll('active'), null, false)).toBe(false);
    expect(canSeeResults(poll('closed'), null, false)).toBe(true);
    expect(canSeeResults(poll('closed', { publicResults: false }), null, false)).toBe(false);
  });

  it('when the feed is built, then staff see every poll and others their audience (closed: or public results)', () => {
    expect(inFeed(poll('active', { audience: arbatOnly }), user({ roles: ['official'] }))).toBe(true);
    expect(inFeed(poll('active', { audience: arbatOnly }), resident)).toBe(false);
    expect(inFeed(poll('closed', { audience: arbatOnly }), resident)).toBe(true);
    expect(inFeed(poll('closed', { audience: arbatOnly, publicResults: false }), resident)).toBe(false);
    expect(inFeed(poll('active', { audience: arbatOnly }), null)).toBe(false);
    expect(inFeed(poll('active'), null)).toBe(true);
  });

  it('when a poll spans New Year, then its eligible count takes ages in the year a ballot cast now would be checked in: the opening before it opens, now while it runs, its real end after', () => {
    const window = { opensAt: '2025-12-20T10:00:00.000Z', closesAt: '2026-01-10T10:00:00.000Z', closedAt: null };
    expect(audienceYear(window, Date.parse('2025-11-01T00:00:00Z'))).toBe(2025);
    expect(audienceYear(window, Date.parse('2025-12-31T23:00:00Z'))).toBe(2025);
    expect(audienceYear(window, Date.parse('2026-01-02T00:00:00Z'))).toBe(2026);
    expect(audienceYear(window, Date.parse('2027-03-01T00:00:00Z'))).toBe(2026);
    // closed early, before New Year: its ballots were all checked in 2025
    expect(audienceYear({ ...window, closedAt: '2025-12-28T10:00:00.000Z' }, Date.parse('2026-02-01T00:00:00Z'))).toBe(2025);
  });
});
