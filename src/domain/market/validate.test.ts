import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { CandleRow } from './candle.js';
import { dropInvalidRows, formatCandleIssue, InvalidCandlesError } from './candle-issue.js';
import { validateCandles } from './validate.js';

// Real BTC/USDT 1m candles, 2021-01-01 00:00–00:04 (from BTCUSDT-1m-2021-01-01.csv).
const REAL: CandleRow[] = [
  [1609459200000, 28923.63, 28961.66, 28913.12, 28961.66, 27.457032],
  [1609459260000, 28961.67, 29017.5, 28961.01, 29009.91, 58.477501],
  [1609459320000, 29009.54, 29016.71, 28973.58, 28989.3, 42.470329],
  [1609459380000, 28989.68, 28999.85, 28972.33, 28982.69, 30.360677],
  [1609459440000, 28982.67, 28995.93, 28971.8, 28975.65, 24.124339],
].map(([openTime, open, high, low, close, volume], index) => ({
  openTime: openTime!,
  open: open!,
  high: high!,
  low: low!,
  close: close!,
  volume: volume!,
  line: index + 1,
  row: index + 1,
}));

/** The real series with one row changed. */
function withRow(index: number, change: Partial<CandleRow>): CandleRow[] {
  return REAL.map((row, i) => (i === index ? { ...row, ...change } : row));
}

describe('validateCandles', () => {
  it('accepts real candles', () => {
    expect(validateCandles(REAL, '1m')).toEqual([]);
  });

  it('reports a low above the body', () => {
    const issues = validateCandles(withRow(1, { low: 28990 }), '1m');
    expect(issues).toEqual([
      {
        line: 2,
        row: 2,
        field: 'low',
        value: 28990,
        rule: 'low_above_body',
        reason:
          'low 28990 is above min(open 28961.67, close 29009.91): the low must be the lowest price of the candle',
      },
    ]);
  });

  it('reports a high below the body', () => {
    const [issue] = validateCandles(withRow(1, { high: 29000 }), '1m');
    expect(issue).toMatchObject({ line: 2, field: 'high', value: 29000, rule: 'high_below_body' });
    expect(issue!.reason).toBe(
      'high 29000 is below max(open 28961.67, close 29009.91): the high must be the highest price of the candle',
    );
  });

  it('reports a high below the low as a broken range on both sides', () => {
    const issues = validateCandles(withRow(2, { high: 28900, low: 29100 }), '1m');
    expect(issues.map((i) => i.rule)).toEqual(['low_above_body', 'high_below_body']);
  });

  it.each(['open', 'high', 'low', 'close'] as const)('reports %s <= 0 as not positive', (field) => {
    const issues = validateCandles(withRow(3, { [field]: 0 }), '1m');
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({ line: 4, field, value: 0, rule: 'not_positive' });
    expect(issues[0]!.reason).toBe(`${field} 0 is not positive: prices must be greater than 0`);
  });

  it.each([Number.NaN, Number.POSITIVE_INFINITY])('reports a price of %s as not finite', (value) => {
    const issues = validateCandles(withRow(0, { close: value }), '1m');
    expect(issues).toEqual([
      {
        line: 1,
        row: 1,
        field: 'close',
        value,
        rule: 'not_finite',
        reason: `close is ${value}, not a finite number`,
      },
    ]);
  });

  it('reports negative and non-finite volume, and accepts zero volume', () => {
    expect(validateCandles(withRow(4, { volume: 0 }), '1m')).toEqual([]);
    expect(validateCandles(withRow(4, { volume: -0.5 }), '1m')).toEqual([
      {
        line: 5,
        row: 5,
        field: 'volume',
        value: -0.5,
        rule: 'negative_volume',
        reason: 'volume -0.5 is negative: volume must be 0 or more',
      },
    ]);
    expect(validateCandles(withRow(4, { volume: Number.NaN }), '1m')[0]!.rule).toBe('not_finite');
  });

  it('reports an open time not on the timeframe boundary', () => {
    const issues = validateCandles(withRow(2, { openTime: 1609459350000 }), '1m');
    expect(issues).toEqual([
      {
        line: 3,
        row: 3,
        field: 'openTime',
        value: 1609459350000,
        rule: 'misaligned',
        reason:
          'open time 2021-01-01T00:02:30.000Z (1609459350000) is not on a 1m boundary: ' +
          '1m candles open at 2021-01-01T00:02:00.000Z or 2021-01-01T00:03:00.000Z',
      },
    ]);
    // The same real 1m candles are misaligned as 5m candles, except the first.
    expect(validateCandles(REAL, '5m').map((i) => i.line)).toEqual([2, 3, 4, 5]);
  });

  it('reports open times that are not epoch milliseconds (seconds, fractions)', () => {
    for (const openTime of [1609459200, 1609459200000.5, 1609459200000000]) {
      const [issue] = validateCandles(withRow(0, { openTime }), '1m');
      expect(issue).toMatchObject({ field: 'openTime', value: openTime, rule: 'not_epoch_ms' });
      expect(issue!.reason).toContain('is not a whole number of epoch milliseconds between 2000-01-01');
    }
  });

  it('reports a repeated open time', () => {
    const issues = validateCandles(withRow(2, { openTime: REAL[1]!.openTime }), '1m');
    expect(issues).toEqual([
      {
        line: 3,
        row: 3,
        field: 'openTime',
        value: 1609459260000,
        rule: 'duplicate_open_time',
        reason:
          'open time 2021-01-01T00:01:00.000Z repeats the candle at line 2: open times must strictly increase',
      },
    ]);
  });

  it('reports an open time earlier than the one before', () => {
    const swapped = [REAL[0]!, REAL[2]!, REAL[1]!, REAL[3]!];
    const issues = validateCandles(swapped, '1m');
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({ line: 2, rule: 'out_of_order' });
    expect(issues[0]!.reason).toBe(
      'open time 2021-01-01T00:01:00.000Z is before 2021-01-01T00:02:00.000Z, the open time of the candle at ' +
        'line 3: open times must strictly increase',
    );
  });

  it('compares order with the last valid row, so skipping invalid rows leaves an increasing series', () => {
    // Row 2 jumps ahead and is invalid (bad low): rows 3 and 4 must not be judged against it.
    const rows = withRow(1, { openTime: REAL[3]!.openTime, low: 99_999 });
    const issues = validateCandles(rows, '1m');
    expect(issues.map((i) => [i.line, i.rule])).toEqual([[2, 'low_above_body']]);
    const kept = dropInvalidRows(rows, issues);
    expect(kept.map((r) => r.line)).toEqual([1, 3, 4, 5]);
    expect(validateCandles(kept, '1m')).toEqual([]);
  });

  it('reports every issue of a row, not just the first', () => {
    const issues = validateCandles(withRow(1, { openTime: REAL[0]!.openTime, open: -1, volume: -1 }), '1m');
    expect(issues.map((i) => i.rule)).toEqual(['not_positive', 'negative_volume', 'duplicate_open_time']);
  });
});

describe('validateCandles, every rule at once', () => {
  it('property: a row passes exactly when it meets every rule (the fast path skips nothing)', () => {
    const value = fc.oneof(
      fc.constantFrom(0, -0, -1, 1, 2, 3, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY),
      fc.double({ min: -10, max: 10 }),
    );
    const openTime = fc.oneof(
      fc.constantFrom(REAL[0]!.openTime, REAL[0]!.openTime + 30_000, 1609459200, Date.UTC(2100, 0, 1)),
      fc.integer({ min: 0, max: 2 ** 42 }).map((n) => n * 60_000),
      fc.double({ min: 0, max: 4e12 }),
    );
    fc.assert(
      fc.property(
        fc.tuple(openTime, value, value, value, value, value),
        ([t, open, high, low, close, volume]) => {
          const row = { openTime: t, open, high, low, close, volume, line: 1, row: 1 };
          const prices = [open, high, low, close];
          const meetsRules =
            prices.every((p) => Number.isFinite(p) && p > 0) &&
            low <= Math.min(open, close) &&
            high >= Math.max(open, close) &&
            Number.isFinite(volume) &&
            volume >= 0 &&
            Number.isSafeInteger(t) &&
            t >= Date.UTC(2000, 0, 1) &&
            t < Date.UTC(2100, 0, 1) &&
            t % 60_000 === 0;
          expect(validateCandles([row], '1m').length === 0).toBe(meetsRules);
        },
      ),
      { numRuns: 5000 },
    );
  });
});

describe('issue formatting', () => {
  const issue = validateCandles(withRow(1, { volume: -2, line: 1, row: 2 }), '1m')[0]!;

  it('names the file, line and row', () => {
    expect(formatCandleIssue(issue, 'BTC_USDT-1h.json')).toBe(
      'BTC_USDT-1h.json line 1, row 2: volume -2 is negative: volume must be 0 or more',
    );
    expect(formatCandleIssue({ ...issue, line: 2 })).toBe(
      'line 2: volume -2 is negative: volume must be 0 or more',
    );
  });

  it('InvalidCandlesError counts rows and lists the first issues', () => {
    const error = new InvalidCandlesError(
      'a.csv',
      Array.from({ length: 7 }, (_, i) => ({ ...issue, line: i + 1, row: i + 1 })),
    );
    expect(error.code).toBe('invalid_candles');
    expect(error.message).toMatch(
      /^a\.csv: 7 invalid rows: line 1: volume -2 is negative.*line 5: .*; and 2 more issues$/,
    );
    expect(error.hint).toContain('--skip-invalid');
  });
});
