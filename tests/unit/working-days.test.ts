import { describe, it, expect } from 'vitest';
import { addWorkingDays, createCalendar, deadlineStatus, warningBefore, workingDaysBetween } from '../../server/decisions/working-days.ts';

const cal = createCalendar();
const at = (iso: string) => Date.parse(iso);
const iso = (ms: number) => new Date(ms).toISOString();

describe('answer deadline in working days (Moscow time, Russian holidays)', () => {
  it('when finalised on a Monday, then 8 working days end on Thursday of the next week at 23:59:59.999 MSK', () => {
    expect(iso(addWorkingDays(at('2026-11-23T10:00:00+03:00'), 8, cal))).toBe('2026-12-03T20:59:59.999Z');
  });

  it('when finalised on a Friday evening or a Saturday, then weekends are skipped', () => {
    expect(iso(addWorkingDays(at('2026-11-27T19:00:00+03:00'), 1, cal))).toBe('2026-11-30T20:59:59.999Z');
    expect(iso(addWorkingDays(at('2026-11-28T12:00:00+03:00'), 1, cal))).toBe('2026-11-30T20:59:59.999Z');
  });

  it('when the period spans a public holiday (4 Nov), then that day does not count', () => {
    expect(iso(addWorkingDays(at('2026-11-03T12:00:00+03:00'), 8, cal))).toBe('2026-11-16T20:59:59.999Z');
  });

  it('when the period spans the New Year holidays, then 31 Dec and 1–8 Jan do not count', () => {
    expect(iso(addWorkingDays(at('2026-12-30T12:00:00+03:00'), 8, cal))).toBe('2027-01-20T20:59:59.999Z');
  });

  it('when finalised after 21:00 UTC, then the day is counted in city time (already the next day in Moscow)', () => {
    // 2026-11-23T22:30Z is Tuesday 01:30 in Moscow
    expect(iso(addWorkingDays(at('2026-11-23T22:30:00Z'), 8, cal))).toBe('2026-12-04T20:59:59.999Z');
  });

  it('when extra holidays or working weekends are configured, then they change the count', () => {
    const c = createCalendar({ extraHolidays: ['2026-11-24'], extraWorkingWeekends: ['2026-11-28'] });
    // Tue 24 off, Wed 25 (1), Thu 26 (2), Fri 27 (3), Sat 28 working (4)
    expect(iso(addWorkingDays(at('2026-11-23T10:00:00+03:00'), 4, c))).toBe('2026-11-28T20:59:59.999Z');
  });

  it('when counting days left, then it is the working days after today up to the deadline, 0 on the last day', () => {
    const deadline = addWorkingDays(at('2026-11-23T10:00:00+03:00'), 8, cal);
    expect(workingDaysBetween(at('2026-11-23T10:00:00+03:00'), deadline, cal)).toBe(8);
    expect(workingDaysBetween(at('2026-11-28T10:00:00+03:00'), deadline, cal)).toBe(4);
    expect(workingDaysBetween(at('2026-12-03T23:00:00+03:00'), deadline, cal)).toBe(0);
  });

  it('when unanswered, then overdue is false up to the last millisecond of the deadline and true right after', () => {
    const fin = at('2026-11-23T10:00:00+03:00');
    const deadline = addWorkingDays(fin, 8, cal);
    expect(deadlineStatus(fin, null, deadline, 8, cal)).toMatchObject({ overdue: false, workingDaysLeft: 0 });
    expect(deadlineStatus(fin, null, deadline + 1, 8, cal)).toMatchObject({ overdue: true, workingDaysLeft: 0 });
  });

  it('when answered (even late), then never overdue; a late answer is flagged answeredLate', () => {
    const fin = at('2026-11-23T10:00:00+03:00');
    const deadline = addWorkingDays(fin, 8, cal);
    expect(deadlineStatus(fin, deadline - 5, deadline + DAY30, 8, cal)).toMatchObject({ overdue: false, answeredLate: false, workingDaysLeft: null });
    expect(deadlineStatus(fin, deadline + 5, deadline + DAY30, 8, cal)).toMatchObject({ overdue: false, answeredLate: true });
  });

  it('when the poll is not finalised, then there is no deadline', () => {
    expect(deadlineStatus(null, null, Date.now(), 8, cal)).toEqual({ answerDeadline: null, overdue: false, workingDaysLeft: null, answeredLate: false });
  });

  it('when a warning 2 working days before a deadline is asked for, then it equals the deadline of N - 2 working days from the same start, and there is none for N <= 2 (weekends, holidays, city time)', () => {
    const starts = ['2026-11-23T10:00:00+03:00', '2026-11-27T19:00:00+03:00', '2026-11-28T12:00:00+03:00', '2026-12-30T12:00:00+03:00', '2026-11-23T22:30:00Z', '2026-05-08T09:00:00+03:00'];
    for (const start of starts) {
      for (let n = 1; n <= 20; n++) {
        const deadline = addWorkingDays(at(start), n, cal);
        expect(warningBefore(at(start), deadline, 2, cal), `${start} + ${n}`).toBe(n > 2 ? addWorkingDays(at(start), n - 2, cal) : null);
      }
    }
    // Monday + 8 → Thursday of the next week; the warning at the end of its Tuesday (Wednesday and Thursday left)
    expect(iso(warningBefore(at('2026-11-23T10:00:00+03:00'), addWorkingDays(at('2026-11-23T10:00:00+03:00'), 8, cal), 2, cal)!)).toBe('2026-12-01T20:59:59.999Z');
  });
});
const DAY30 = 30 * 86_400_000;
