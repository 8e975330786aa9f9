import type { CandleRow } from './candle.js';
import {
  type CandleField,
  type CandleIssue,
  type CandleIssueRule,
  describeRowPosition,
} from './candle-issue.js';
import { alignTime, type Timeframe, timeframeMs } from './timeframe.js';

/** Same bounds as the event schema's epochMs: catches seconds and microseconds mistaken for ms. */
export const MIN_EPOCH_MS = Date.UTC(2000, 0, 1);
export const MAX_EPOCH_MS = Date.UTC(2100, 0, 1);

const PRICE_FIELDS = ['open', 'high', 'low', 'close'] as const;

/** ISO-8601 for messages; falls back to the raw number when it is not a representable date. */
export function describeTime(ms: number): string {
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? String(ms) : date.toISOString();
}

/**
 * Checks every row and returns all issues (empty when the series is valid), in row order:
 * - open, high, low, close finite and > 0; volume finite and >= 0;
 * - low <= min(open, close) and high >= max(open, close);
 * - open time a whole epoch millisecond between 2000 and 2100, aligned to the timeframe;
 * - open times strictly increasing.
 *
 * Order is checked against the last row that had no issue, not the row just before: then
 * dropping every row with an issue (`--skip-invalid`) always leaves a strictly increasing,
 * aligned series, whichever rows were bad.
 */
export function validateCandles(rows: readonly CandleRow[], timeframe: Timeframe): CandleIssue[] {
  const issues: CandleIssue[] = [];
  let lastValid: CandleRow | undefined;
  for (const row of rows) {
    // Nearly every row is valid: one pass of plain comparisons, and the detailed checks (which
    // build messages) only for a row that fails it.
    if (isPlainlyValid(row, timeframe) && (lastValid === undefined || row.openTime > lastValid.openTime)) {
      lastValid = row;
      continue;
    }
    const found = checkCandle(row, timeframe);
    if (lastValid && Number.isSafeInteger(row.openTime)) {
      const order = checkOrder(row, lastValid);
      if (order) found.push(order);
    }
    if (found.length === 0) lastValid = row;
    else issues.push(...found);
  }
  return issues;
}

/** true when checkCandle would find nothing (the same rules, without the messages). */
function isPlainlyValid(row: CandleRow, timeframe: Timeframe): boolean {
  const { openTime, open, high, low, close, volume } = row;
  return (
    open > 0 &&
    open < Number.POSITIVE_INFINITY &&
    close > 0 &&
    close < Number.POSITIVE_INFINITY &&
    low > 0 &&
    high < Number.POSITIVE_INFINITY &&
    low <= open &&
    low <= close &&
    high >= open &&
    high >= close &&
    volume >= 0 &&
    volume < Number.POSITIVE_INFINITY &&
    Number.isSafeInteger(openTime) &&
    openTime >= MIN_EPOCH_MS &&
    openTime < MAX_EPOCH_MS &&
    alignTime(openTime, timeframe) === openTime
  );
}

/** The checks that need only the row itself. */
function checkCandle(row: CandleRow, timeframe: Timeframe): CandleIssue[] {
  const found: CandleIssue[] = [];
  const issue = (field: CandleField, value: number, rule: CandleIssueRule, reason: string) =>
    found.push({ line: row.line, row: row.row, field, value, rule, reason });

  const openTimeIssue = checkOpenTime(row.openTime, timeframe);
  if (openTimeIssue) issue('openTime', row.openTime, openTimeIssue.rule, openTimeIssue.reason);

  let pricesUsable = true;
  for (const field of PRICE_FIELDS) {
    const value = row[field];
    if (Number.isFinite(value) && value > 0) continue;
    pricesUsable = false;
    const reason = Number.isFinite(value)
      ? `${field} ${value} is not positive: prices must be greater than 0`
      : `${field} is ${value}, not a finite number`;
    issue(field, value, Number.isFinite(value) ? 'not_positive' : 'not_finite', reason);
  }
  // Comparing low and high with the body only means something once all four prices are usable.
  if (pricesUsable) {
    const { open, high, low, close } = row;
    if (low > Math.min(open, close)) {
      issue(
        'low',
        low,
        'low_above_body',
        `low ${low} is above min(open ${open}, close ${close}): the low must be the lowest price of the candle`,
      );
    }
    if (high < Math.max(open, close)) {
      issue(
        'high',
        high,
        'high_below_body',
        `high ${high} is below max(open ${open}, close ${close}): the high must be the highest price of the candle`,
      );
    }
  }

  if (!Number.isFinite(row.volume)) {
    issue('volume', row.volume, 'not_finite', `volume is ${row.volume}, not a finite number`);
  } else if (row.volume < 0) {
    issue(
      'volume',
      row.volume,
      'negative_volume',
      `volume ${row.volume} is negative: volume must be 0 or more`,
    );
  }
  return found;
}

/** Range and alignment of an open time; exported for parsers that convert units first. */
export function checkOpenTime(
  openTime: number,
  timeframe?: Timeframe,
): { rule: 'not_epoch_ms' | 'misaligned'; reason: string } | null {
  if (!Number.isSafeInteger(openTime) || openTime < MIN_EPOCH_MS || openTime >= MAX_EPOCH_MS) {
    return {
      rule: 'not_epoch_ms',
      reason: `open time ${openTime} is not a whole number of epoch milliseconds between 2000-01-01 and 2100-01-01 UTC`,
    };
  }
  if (timeframe === undefined) return null;
  const before = alignTime(openTime, timeframe);
  if (before === openTime) return null;
  const after = before + timeframeMs(timeframe);
  return {
    rule: 'misaligned',
    reason:
      `open time ${describeTime(openTime)} (${openTime}) is not on a ${timeframe} boundary: ` +
      `${timeframe} candles open at ${describeTime(before)} or ${describeTime(after)}`,
  };
}

function checkOrder(row: CandleRow, previous: CandleRow): CandleIssue | null {
  if (row.openTime > previous.openTime) return null;
  const base = { line: row.line, row: row.row, field: 'openTime' as const, value: row.openTime };
  if (row.openTime === previous.openTime) {
    return {
      ...base,
      rule: 'duplicate_open_time',
      reason:
        `open time ${describeTime(row.openTime)} repeats the candle at ${describeRowPosition(previous)}: ` +
        'open times must strictly increase',
    };
  }
  return {
    ...base,
    rule: 'out_of_order',
    reason:
      `open time ${describeTime(row.openTime)} is before ${describeTime(previous.openTime)}, the open time ` +
      `of the candle at ${describeRowPosition(previous)}: open times must strictly increase`,
  };
}
