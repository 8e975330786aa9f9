import { describe, expect, it } from 'vitest';
import { Atr, trueRangeOf } from './atr.js';
import { firstMismatch, TIGHT, tightAtScale } from './testing/compare.js';
import { type Bars, btcMinutes20210519, hourly, scaled } from './testing/fixtures.js';
import { talibReal } from './testing/talib-oracle.js';

const atrSeries = (period: number, bars: Bars, length = bars.close.length) => {
  const atr = new Atr(period);
  return bars.close.slice(0, length).map((close, i) => atr.update(bars.high[i]!, bars.low[i]!, close).value);
};
const talibAtr = (period: number, bars: Bars, length = bars.close.length) =>
  talibReal(
    'ATR',
    { high: bars.high.slice(0, length), low: bars.low.slice(0, length), close: bars.close.slice(0, length) },
    { optInTimePeriod: period },
  );

describe('Atr', () => {
  describe.each([hourly('BTC'), btcMinutes20210519(), scaled(hourly('BTC'), 1e-9)])('on $name', (bars) => {
    const tolerance = bars.name.includes(' x ') ? tightAtScale(1e-9) : TIGHT;
    it.each([1, 2, 5, 14, 30])('matches TA-Lib ATR(%i) index by index, warm-up included', (period) => {
      expect(firstMismatch(atrSeries(period, bars), talibAtr(period, bars), tolerance)).toBeNull();
    });
  });

  it('gives the first bar no true range, so the first value is at index period', () => {
    const bars = hourly('BTC');
    expect(atrSeries(14, bars, 16).findIndex((v) => !Number.isNaN(v))).toBe(14);
    expect(new Atr(14).lookback).toBe(14);
    // The seed is the mean of the true ranges of bars 1..14 (bar 0 has no previous close).
    let sum = 0;
    for (let i = 1; i <= 14; i++) sum += trueRangeOf(bars.high[i]!, bars.low[i]!, bars.close[i - 1]!);
    expect(atrSeries(14, bars, 15)[14]).toBe(sum / 14);
  });

  it('takes gaps from the previous close into the true range', () => {
    expect(trueRangeOf(105, 103, 100)).toBe(5); // gap up: high - previous close
    expect(trueRangeOf(97, 95, 100)).toBe(5); // gap down: previous close - low
    expect(trueRangeOf(102, 98, 100)).toBe(4); // inside: high - low
  });

  it.each([1, 2, 14, 15])('on a series of %i bars (period 14) agrees with TA-Lib', (length) => {
    expect(
      firstMismatch(atrSeries(14, hourly('BTC'), length), talibAtr(14, hourly('BTC'), length), TIGHT),
    ).toBeNull();
  });

  it('is exactly 0 on a flat market, like TA-Lib', () => {
    const flat = new Array(30).fill(0.000012);
    const flatBars: Bars = { name: 'flat', openTime: flat, open: flat, high: flat, low: flat, close: flat };
    const expected = [...new Array(14).fill(Number.NaN), ...new Array(16).fill(0)];
    expect(atrSeries(14, flatBars)).toEqual(expected);
    expect(talibAtr(14, flatBars)).toEqual(expected);
  });
});
