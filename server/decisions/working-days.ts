import { RU_HOLIDAYS, RU_WORKING_WEEKENDS } from './holidays.ru.ts';

/** A working-day calendar: weekends off, holidays off, transferred weekends on, in one city time zone. */
export type WorkCalendar = {
  /** Local dates (YYYY-MM-DD) that are off although they are weekdays. */
  holidays: ReadonlySet<string>;
  /** Local dates (YYYY-MM-DD) that are working days although they fall on a weekend. */
  workingWeekends: ReadonlySet<string>;
  /** The city's offset from UTC in minutes (Moscow: +180, no DST). */
  utcOffsetMinutes: number;
};

const DAY = 86_400_000;

export function createCalendar(opts: { extraHolidays?: readonly string[]; extraWorkingWeekends?: readonly string[]; utcOffsetMinutes?: number } = {}): WorkCalendar {
  return {
    holidays: new Set([...RU_HOLIDAYS, ...(opts.extraHolidays ?? [])]),
    workingWeekends: new Set([...RU_WORKING_WEEKENDS, ...(opts.extraWorkingWeekends ?? [])]),
    utcOffsetMinutes: opts.utcOffsetMinutes ?? 180,
  };
}

/** Local day number (days since 1970-01-01 in city time) of an instant. */
const localDay = (ms: number, cal: WorkCalendar) => Math.floor((ms + cal.utcOffsetMinutes * 60_000) / DAY);
const dayIso = (day: number) => new Date(day * DAY).toISOString().slice(0, 10);

export function isWorkingDay(day: number, cal: WorkCalendar): boolean {
  const iso = dayIso(day);
  if (cal.workingWeekends.has(iso)) return true;
  if (cal.holidays.has(iso)) return false;
  const dow = new Date(day * DAY).getUTCDay();
  return dow !== 0 && dow !== 6;
}

/**
 * The answer deadline: the end (23:59:59.999 city time) of the `workingDays`-th working day after the
 * local day of `fromMs`. Finalised on a Monday with 8 → the end of Thursday of the next week.
 */
export function addWorkingDays(fromMs: number, workingDays: number, cal: WorkCalendar): number {
  let day = localDay(fromMs, cal);
  let left = workingDays;
  while (left > 0) {
    day++;
    if (isWorkingDay(day, cal)) left--;
  }
  return (day + 1) * DAY - cal.utcOffsetMinutes * 60_000 - 1;
}

/**
 * A warning `workingDays` working days before a deadline made by addWorkingDays from `fromMs`: the end of
 * the working day after which exactly `workingDays` working days are left, the deadline's day included (for
 * a deadline of N working days, the instant addWorkingDays(fromMs, N - workingDays) gives). null when that
 * day is not after the start's local day (a deadline of `workingDays` or fewer: the whole span is that close).
 * Found from the deadline, so a stored start and deadline are enough.
 */
export function warningBefore(fromMs: number, deadlineMs: number, workingDays: number, cal: WorkCalendar): number | null {
  // the `workingDays`-th working day before the deadline's day
  let day = localDay(deadlineMs, cal);
  for (let left = workingDays; left > 0; ) {
    day--;
    if (isWorkingDay(day, cal)) left--;
  }
  if (day <= localDay(fromMs, cal)) return null;
  return (day + 1) * DAY - cal.utcOffsetMinutes * 60_000 - 1;
}

/** Working days after today (city time) up to and including the deadline's day; 0 on that day and after. */
export function workingDaysBetween(nowMs: number, deadlineMs: number, cal: WorkCalendar): number {
  const today = localDay(nowMs, cal);
  const last = localDay(deadlineMs, cal);
  let n = 0;
  for (let d = today + 1; d <= last; d++) if (isWorkingDay(d, cal)) n++;
  return n;
}

/** The deadline fields of a poll: finalised at `finalisedAtMs` (null = not yet), answered at `answeredAtMs`. */
export function deadlineStatus(
  finalisedAtMs: number | null,
  answeredAtMs: number | null,
  nowMs: number,
  workingDays: number,
  cal: WorkCalendar,
): { answerDeadline: string | null; overdue: boolean; workingDaysLeft: number | null; answeredLate: boolean } {
  if (finalisedAtMs === null) return { answerDeadline: null, overdue: false, workingDaysLeft: null, answeredLate: false };
  const deadline = addWorkingDays(finalisedAtMs, workingDays, cal);
  if (answeredAtMs !== null) {
    return { answerDeadline: new Date(deadline).toISOString(), overdue: false, workingDaysLeft: null, answeredLate: answeredAtMs > deadline };
  }
  return {
    answerDeadline: new Date(deadline).toISOString(),
    overdue: nowMs > deadline,
    workingDaysLeft: workingDaysBetween(nowMs, deadline, cal),
    answeredLate: false,
  };
}
