/**
 * Russian federal non-working days (Labour Code art. 112 and the government's yearly transfer decree),
 * as local dates. Only the weekdays that are off are listed (weekends are off anyway), plus the
 * Saturdays/Sundays that are working days after a transfer.
 *
 * 2026: decree of 2025 — New Year holidays 1–11 Jan (Sat 3 Jan moved to Fri 9 Jan, Sun 4 Jan to Thu 31 Dec);
 *       8 Mar is a Sunday → Mon 9 Mar; 9 May is a Saturday → Mon 11 May.
 * 2027: the statutory days and the automatic weekend carry-overs only (1 May Sat → Mon 3 May, 9 May Sun →
 *       Mon 10 May, 12 Jun Sat → Mon 14 Jun). The transfer of 2–3 Jan 2027 is set by the 2027 decree:
 *       add those days with PUBLIC_HOLIDAYS / WORKING_WEEKENDS once it is published.
 */
export const RU_HOLIDAYS: readonly string[] = [
  // 2026
  '2026-01-01', '2026-01-02', '2026-01-05', '2026-01-06', '2026-01-07', '2026-01-08', '2026-01-09',
  '2026-02-23', '2026-03-09', '2026-05-01', '2026-05-11', '2026-06-12', '2026-11-04', '2026-12-31',
  // 2027
  '2027-01-01', '2027-01-04', '2027-01-05', '2027-01-06', '2027-01-07', '2027-01-08',
  '2027-02-23', '2027-03-08', '2027-05-03', '2027-05-10', '2027-06-14', '2027-11-04',
];

/** Weekend days that are working days after a transfer (none known for 2026–2027). */
export const RU_WORKING_WEEKENDS: readonly string[] = [];
