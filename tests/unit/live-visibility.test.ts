import { describe, it, expect } from 'vitest';
import { canSeeResults, type LivePoll, type Viewer } from '../../server/realtime/live.service.ts';

const poll = (status: LivePoll['status'], extra: Partial<LivePoll> = {}): LivePoll => ({ id: 1, status, ...extra });
const resident: Viewer = { userId: 7, roles: ['resident'] };
const anon: Viewer = { userId: null, roles: [] };

describe('live results visibility rule', () => {
  it('when staff (moderator, official, admin) watch, then they always see results, even of a draft', () => {
    for (const role of ['moderator', 'official', 'admin']) {
      for (const st of ['draft', 'scheduled', 'active', 'closed', 'finalised'] as const) {
        expect(canSeeResults(poll(st), { userId: 1, roles: [role] }, false), `${role} ${st}`).toBe(true);
      }
    }
  });

  it('when a resident has not voted, then results are hidden while the poll is open and shown once it is closed or finalised', () => {
    expect(canSeeResults(poll('active'), resident, false)).toBe(false);
    expect(canSeeResults(poll('active', { publicLive: true }), resident, false)).toBe(false);
    expect(canSeeResults(poll('closed'), resident, false)).toBe(true);
    expect(canSeeResults(poll('finalised'), resident, false)).toBe(true);
    expect(canSeeResults(poll('closed', { publicResults: false }), resident, false)).toBe(false);
  });

  it('when a resident has voted, then they see results live', () => {
    expect(canSeeResults(poll('active'), resident, true)).toBe(true);
    expect(canSeeResults(poll('closed', { publicResults: false }), resident, true)).toBe(true);
  });

  it('when anonymous (projector), then live results only for an active public-live poll, closed ones if public', () => {
    expect(canSeeResults(poll('active'), anon, false)).toBe(false);
    expect(canSeeResults(poll('active', { publicLive: true }), anon, false)).toBe(true);
    expect(canSeeResults(poll('scheduled', { publicLive: true }), anon, false)).toBe(false);
    expect(canSeeResults(poll('closed'), anon, false)).toBe(true);
    expect(canSeeResults(poll('closed', { publicResults: false, publicLive: true }), anon, false)).toBe(false);
  });
});
