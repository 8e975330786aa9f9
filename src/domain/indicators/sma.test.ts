import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Sma } from './sma.js';
import { firstMismatch, TIGHT, tightAtScale } from './testing/compare.js';
import { btcMinutes20210519, hourly, scaled } from './testing/fixtures.js';
import { talibReal } from './testing/talib-oracle.js';

const smaSeries = (period: number, xs: readonly number[]) => {
  const sma = new Sma(period);
  return xs.map((x) => sma.update(x).value);
};

describe('Sma', () => {
  describe.each([hourly('BTC'), btcMinutes20210519(), scaled(hourly('BTC'), 1e-9)])('on $name', (bars) => {
    const tolerance = bars.name.includes(' x ') ? tightAtScale(1e-9) : TIGHT;
    it.each([2, 5, 20, 50, 200])('matches TA-Lib SMA(%i) index by index, warm-up included', (period) => {
      const expected = talibReal('SMA', { inReal: bars.close }, { optInTimePeriod: period });
      expect(firstMismatch(smaSeries(period, bars.close), expected, tolerance)).toBeNull();
    });
  });

  it('has its first value at index period - 1, like TA-Lib', () => {
    const sma = new Sma(20);
    expect(sma.lookback).toBe(19);
    const closes = hourly('BTC').close.slice(0, 20);
    closes.slice(0, 19).forEach((x) => {
      expect(sma.update(x).ready).toBe(false);
      expect(sma.value).toBeNaN();
    });
    expect(sma.update(closes[19]!).ready).toBe(true);
  });

  it.each([1, 5, 19, 20])('on a series of %i values (period 20) agrees with TA-Lib', (length) => {
    const closes = hourly('BTC').close.slice(0, length);
    const expected = talibReal('SMA', { inReal: closes }, { optInTimePeriod: 20 });
    expect(firstMismatch(smaSeries(20, closes), expected, TIGHT)).toBeNull();
  });

  it('is exactly the price on a flat window, even right after a volatile stretch', () => {
    const closes = [...hourly('BTC').close.slice(0, 50), ...new Array(25).fill(0.1)];
    const values = smaSeries(20, closes);
    expect(values.slice(69)).toEqual(new Array(6).fill(0.1));
  });

  it('recovers exactly once a bad print has left the window (TA-Lib keeps a 3e-8 offset)', () => {
    const closes = hourly('BTC')
      .close.slice(0, 200)
      .map((x, i) => (i === 50 ? x * 1e6 : x));
    const exactMean = (end: number) => closes.slice(end - 19, end + 1).reduce((a, x) => a + x, 0) / 20;
    const ours = smaSeries(20, closes);
    const theirs = talibReal('SMA', { inReal: closes }, { optInTimePeriod: 20 });
    for (const i of [75, 120, 199]) {
      expect(Math.abs(ours[i]! - exactMean(i))).toBeLessThan(1e-11);
      expect(Math.abs(theirs[i]! - exactMean(i))).toBeGreaterThan(1e-8);
    }
  });

  it('property: the SMA of a constant is that constant', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 1e-12, max: 1e9, noNaN: true }),
        fc.integer({ min: 2, max: 60 }),
        fc.integer({ min: 0, max: 200 }),
        (price, period, extra) => {
          const values = smaSeries(period, new Array(period + extra).fill(price));
          return values.slice(period - 1).every((v) => v === price);
        },
      ),
    );
  });

  it('refuses a period TA-Lib would refuse, and non-finite input', () => {
    expect(() => new Sma(1)).toThrow(/period must be an integer from 2/);
    expect(() => new Sma(2.5)).toThrow(/period/);
    expect(() => new Sma(3).update(Number.NaN)).toThrow(RangeError);
  });
});
