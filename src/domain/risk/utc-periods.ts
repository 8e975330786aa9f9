/**
 * UTC calendar periods for the loss limits, by arithmetic only (no Date, nothing allocated):
 * days since the epoch, ISO weeks starting on Monday, calendar months.
 */
const DAY_MS = 86_400_000;

export type PeriodKind = 'day' | 'week' | 'month';

export function utcDay(timeMs: number): number {
  return Math.floor(timeMs / DAY_MS);
}

/** Weeks since the Monday before the epoch (1970-01-01 was a Thursday). */
export function utcWeek(timeMs: number): number {
  return Math.floor((utcDay(timeMs) + 3) / 7);
}

/** Months since January 1970 (year * 12 + month - 1 - 1970 * 12). */
export function utcMonth(timeMs: number): number {
  const { year, month } = civilFromDays(utcDay(timeMs));
  return (year - 1970) * 12 + (month - 1);
}

export function periodKey(kind: PeriodKind, timeMs: number): number {
  return kind === 'day' ? utcDay(timeMs) : kind === 'week' ? utcWeek(timeMs) : utcMonth(timeMs);
}

/** The first millisecond of the period after the one with this key. */
export function periodEnd(kind: PeriodKind, key: number): number {
  if (kind === 'day') return (key + 1) * DAY_MS;
  if (kind === 'week') return ((key + 1) * 7 - 3) * DAY_MS;
  const next = key + 1;
  return daysFromCivil(1970 + Math.floor(next / 12), (next % 12) + 1, 1) * DAY_MS;
}

/** Howard Hinnant's civil_from_days: proleptic Gregorian date of a day number. */
export function civilFromDays(days: number): { year: number; month: number; day: number } {
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor(
    (doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365,
  );
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  return { year: yoe + era * 400 + (month <= 2 ? 1 : 0), month, day };
}

/** Howard Hinnant's days_from_civil. */
export function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146_097 + doe - 719_468;
}
