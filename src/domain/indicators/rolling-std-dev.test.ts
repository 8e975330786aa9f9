import { describe, expect, it } from 'vitest';
import { RollingStdDev } from './rolling-std-dev.js';
import { firstMismatch, firstValueIndex, TIGHT } from './testing/compare.js';
import { btcMinutes20210519, hourly, scaled } from './testing/fixtures.js';
import { talibReal } from './testing/talib-oracle.js';

const stdDevSeries = (period: number, xs: readonly number[]) => {
  const stats = new RollingStdDev(period);
  return xs.map((x) => stats.update(x).stdDev);
};
const talibStdDev = (period: number, xs: readonly number[]) =>
  talibReal('STDDEV', { inReal: xs }, { optInTimePeriod: period, optInNbDev: 1 });

/** Exact-as-doubles-allow reference: two passes over each window (mean first, then deviations). */
function twoPassReference(period: number, xs: readonly number[]) {
  return xs.map((_, end) => {
    if (end < period - 1) return { stdDev: Number.NaN, meanOfSquares: Number.NaN };
    const window = xs.slice(end - period + 1, end + 1);
    const mean = window.reduce((a, x) => a + x, 0) / period;
    const variance = window.reduce((a, x) => a + (x - mean) ** 2, 0) / period;
    return { stdDev: Math.sqrt(variance), meanOfSquares: window.reduce((a, x) => a + x * x, 0) / period };
  });
}

/**
 * One-pass variance (E[x^2] - E[x]^2, TA-Lib's formula and ours) cancels digits: rounding
 * E[x^2] costs eps * E[x^2] of variance, i.e. about eps * E[x^2] / (2 * stdDev) of standard
 * deviation, however the sums are kept. Errors are measured in that unit. Ours stays within
 * ~1.25 units of the two-pass value on the fixtures; TA-Lib, whose running sums also drift,
 * reaches ~44 units (2-bar windows of 1m BTC), i.e. a relative error of 2e-8 on 5-bar windows.
 */
function firstMismatchInUnits(
  xs: readonly number[],
  period: number,
  actual: readonly number[],
  expected: readonly number[],
  unitsAllowed: number,
): string | null {
  const reference = twoPassReference(period, xs);
  if (firstValueIndex(actual) !== firstValueIndex(expected)) return 'warm-up lengths differ';
  for (let i = period - 1; i < xs.length; i++) {
    const { stdDev, meanOfSquares } = reference[i]!;
    if (stdDev === 0) continue; // flat windows are tested on their own
    const unit = (Number.EPSILON * meanOfSquares) / stdDev;
    const allowed = 1e-9 * stdDev + unitsAllowed * unit;
    const diff = Math.abs(actual[i]! - expected[i]!);
    if (!(diff <= allowed))
      return `index ${i}: ${actual[i]} vs ${expected[i]} (${(diff / unit).toFixed(1)} units)`;
  }
  return null;
}

const DATASETS = [hourly('BTC'), btcMinutes20210519()];

describe('RollingStdDev', () => {
  describe.each(DATASETS)('on $name', (bars) => {
    it.each([2, 5, 20, 50, 100])(
      '(%i) is within 1e-9 + 2 cancellation units of the two-pass value',
      (period) => {
        const reference = twoPassReference(period, bars.close).map((r) => r.stdDev);
        const ours = stdDevSeries(period, bars.close);
        expect(firstMismatchInUnits(bars.close, period, ours, reference, 2)).toBeNull();
        const flatWindows = reference.flatMap((stdDev, i) => (stdDev === 0 ? [i] : []));
        expect(flatWindows.map((i) => ours[i])).toEqual(flatWindows.map(() => 0));
      },
    );

    it.each([2, 5, 20, 50, 100])(
      '(%i) matches TA-Lib STDDEV within 1e-9 + 64 cancellation units',
      (period) => {
        const theirs = talibStdDev(period, bars.close);
        expect(
          firstMismatchInUnits(bars.close, period, stdDevSeries(period, bars.close), theirs, 64),
        ).toBeNull();
        expect(firstValueIndex(theirs)).toBe(period - 1);
      },
    );

    it.each([20, 50, 100])(
      '(%i) agrees with TA-Lib STDDEV to 1e-9 where TA-Lib has no cancellation trouble',
      (period) => {
        const stats = new RollingStdDev(period);
        const means = bars.close.map((x) => stats.update(x).mean);
        expect(
          firstMismatch(stdDevSeries(period, bars.close), talibStdDev(period, bars.close), TIGHT),
        ).toBeNull();
        expect(
          firstMismatch(means, talibReal('SMA', { inReal: bars.close }, { optInTimePeriod: period }), TIGHT),
        ).toBeNull();
      },
    );
  });

  it('is exactly 0 on a flat window after a volatile stretch, where TA-Lib leaves 4.3e-5', () => {
    const closes = hourly('BTC').close.slice(0, 50);
    // The market jumps to 4,077.77 and stays there: without the flat-window rule, the running
    // sums would leave a standard deviation of 6e-5 and a mean a few ulps off.
    const withFlat = [...closes, ...new Array(40).fill(4077.77)];
    const stats = new RollingStdDev(20);
    const values = withFlat.map((x) => stats.update(x).stdDev);
    expect(values.slice(69)).toEqual(new Array(21).fill(0));
    expect(stats.mean).toBe(4077.77);
    expect(stats.variance).toBe(0);
    expect(talibStdDev(20, withFlat)[89]).toBeGreaterThan(4e-5);
  });

  it('recovers once a bad print has left the window, where TA-Lib keeps a variance offset for good', () => {
    // One close printed a million times too high (a fat-finger tick) at index 50.
    const closes = hourly('BTC')
      .close.slice(0, 200)
      .map((x, i) => (i === 50 ? x * 1e6 : x));
    const reference = twoPassReference(20, closes).map((r) => r.stdDev);
    const ours = stdDevSeries(20, closes);
    const theirs = talibStdDev(20, closes);
    for (const i of [75, 120, 199]) {
      expect(Math.abs(ours[i]! / reference[i]! - 1)).toBeLessThan(1e-11);
      // ~256 of variance stays in TA-Lib's running sum of squares: 48.6 instead of 45.9 at index 75.
      expect(theirs[i]! ** 2 - reference[i]! ** 2).toBeGreaterThan(200);
    }
  });

  it('is exactly 0 over two equal closes, where TA-Lib STDDEV(2) is not', () => {
    const closes = hourly('BTC').close;
    const repeats = closes.flatMap((x, i) => (i > 0 && x === closes[i - 1] ? [i] : []));
    expect(repeats.length).toBeGreaterThan(5);
    const ours = stdDevSeries(2, closes);
    const theirs = talibStdDev(2, closes);
    for (const i of repeats) expect(ours[i]).toBe(0);
    expect(repeats.some((i) => theirs[i]! > 0)).toBe(true);
  });

  it('scales exactly with the prices, where TA-Lib zeroes every deviation below 1e-7', () => {
    const factor = 2 ** -30; // BTC 4,000..20,000 becomes 0.0000037..0.000019; a power of 2 scales exactly
    const closes = hourly('BTC').close;
    const tiny = scaled(hourly('BTC'), factor).close;
    expect(stdDevSeries(20, tiny)).toEqual(stdDevSeries(20, closes).map((v) => v * factor));
    const collapsed = talibStdDev(20, tiny).filter((v) => v === 0).length;
    expect(collapsed).toBeGreaterThan(1000);
  });

  it.each([1, 19, 20])('on a series of %i values (period 20) agrees with TA-Lib', (length) => {
    const closes = hourly('BTC').close.slice(0, length);
    expect(firstMismatch(stdDevSeries(20, closes), talibStdDev(20, closes), TIGHT)).toBeNull();
    expect(new RollingStdDev(20).lookback).toBe(19);
  });
});
