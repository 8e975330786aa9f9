import { describe, expect, it } from 'vitest';
import { Rsi } from './rsi.js';
import { firstMismatch, TIGHT } from './testing/compare.js';
import { btcMinutes20210519, hourly, scaled } from './testing/fixtures.js';
import { talibReal } from './testing/talib-oracle.js';

const rsiSeries = (period: number, xs: readonly number[]) => {
  const rsi = new Rsi(period);
  return xs.map((x) => rsi.update(x).value);
};
const talibRsi = (period: number, xs: readonly number[]) =>
  talibReal('RSI', { inReal: xs }, { optInTimePeriod: period });

describe('Rsi', () => {
  // RSI is scale-free (0..100), so the tight tolerance applies to the 1e-9 scaled prices too.
  describe.each([hourly('BTC'), btcMinutes20210519(), scaled(hourly('BTC'), 1e-9)])('on $name', (bars) => {
    it.each([2, 6, 14, 30])('matches TA-Lib RSI(%i) index by index, warm-up included', (period) => {
      expect(firstMismatch(rsiSeries(period, bars.close), talibRsi(period, bars.close), TIGHT)).toBeNull();
    });
  });

  it('has its first value at index period: period changes need period + 1 prices', () => {
    const values = rsiSeries(14, hourly('BTC').close.slice(0, 16));
    expect(values.findIndex((v) => !Number.isNaN(v))).toBe(14);
    expect(new Rsi(14).lookback).toBe(14);
  });

  it.each([1, 2, 14, 15])('on a series of %i prices (period 14) agrees with TA-Lib', (length) => {
    const closes = hourly('BTC').close.slice(0, length);
    expect(firstMismatch(rsiSeries(14, closes), talibRsi(14, closes), TIGHT)).toBeNull();
  });

  it('is 0 on a market flat from the start, as TA-Lib returns (not 50)', () => {
    const flat = new Array(40).fill(27_000.5);
    const expected = [...new Array(14).fill(Number.NaN), ...new Array(26).fill(0)];
    expect(talibRsi(14, flat)).toEqual(expected);
    expect(rsiSeries(14, flat)).toEqual(expected);
  });

  it('is 100 when prices only rise and 0 when they only fall', () => {
    const rising = Array.from({ length: 30 }, (_, i) => 100 + i);
    expect(rsiSeries(14, rising).slice(14)).toEqual(new Array(16).fill(100));
    expect(rsiSeries(14, rising.toReversed()).slice(14)).toEqual(new Array(16).fill(0));
  });

  it('holds its last value through a flat stretch after a move (both averages decay alike)', () => {
    const closes = hourly('BTC').close.slice(0, 100);
    const withFlat = [...closes, ...new Array(200).fill(closes[99]!)];
    const values = rsiSeries(14, withFlat);
    const expected = talibRsi(14, withFlat);
    expect(firstMismatch(values, expected, TIGHT)).toBeNull();
    expect(values[299]).toBeCloseTo(values[99]!, 10);
  });

  it('unlike TA-Lib, does not fall to 0 when the averages drop below an absolute 1e-14', () => {
    // After ~500 flat hours TA-Lib's avgGain + avgLoss passes under its epsilon and it reports 0;
    // a 1e-14 threshold on price changes is arbitrary, so here the RSI keeps its level.
    const closes = hourly('BTC').close.slice(0, 100);
    const withLongFlat = [...closes, ...new Array(1000).fill(closes[99]!)];
    const ours = rsiSeries(14, withLongFlat);
    const theirs = talibRsi(14, withLongFlat);
    expect(theirs[1099]).toBe(0);
    expect(ours[1099]).toBeCloseTo(ours[99]!, 9);
    // The same collapse hits prices below ~1e-12 at once: RSI is scale-free here, not there.
    const tiny = scaled(hourly('BTC'), 2 ** -55).close.slice(0, 300);
    expect(rsiSeries(14, tiny)).toEqual(rsiSeries(14, hourly('BTC').close.slice(0, 300)));
    expect(talibRsi(14, tiny).filter((v) => v === 0).length).toBeGreaterThan(0);
  });

  it('refuses period 1, like TA-Lib', () => {
    expect(() => new Rsi(1)).toThrow(/period must be an integer from 2/);
  });
});
