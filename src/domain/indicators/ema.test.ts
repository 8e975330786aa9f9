import { describe, expect, it } from 'vitest';
import { Ema } from './ema.js';
import { firstMismatch, TIGHT, tightAtScale } from './testing/compare.js';
import { btcMinutes20210519, hourly, scaled } from './testing/fixtures.js';
import { talibReal } from './testing/talib-oracle.js';

const emaSeries = (period: number, xs: readonly number[]) => {
  const ema = new Ema(period);
  return xs.map((x) => ema.update(x).value);
};

describe('Ema', () => {
  describe.each([hourly('BTC'), btcMinutes20210519(), scaled(hourly('BTC'), 1e-9)])('on $name', (bars) => {
    const tolerance = bars.name.includes(' x ') ? tightAtScale(1e-9) : TIGHT;
    it.each([2, 9, 12, 26, 50, 200])('matches TA-Lib EMA(%i) index by index, warm-up included', (period) => {
      const expected = talibReal('EMA', { inReal: bars.close }, { optInTimePeriod: period });
      expect(firstMismatch(emaSeries(period, bars.close), expected, tolerance)).toBeNull();
    });
  });

  it('is seeded with the SMA of the first period values, at index period - 1', () => {
    const values = emaSeries(3, [1, 2, 6, 10]);
    expect(values.slice(0, 2)).toEqual([Number.NaN, Number.NaN]);
    expect(values[2]).toBe(3); // (1 + 2 + 6) / 3
    expect(values[3]).toBe(3 + (10 - 3) * 0.5); // k = 2 / (3 + 1)
    expect(new Ema(3).lookback).toBe(2);
  });

  it.each([1, 11, 12, 13])('on a series of %i values (period 12) agrees with TA-Lib', (length) => {
    const closes = hourly('BTC').close.slice(0, length);
    const expected = talibReal('EMA', { inReal: closes }, { optInTimePeriod: 12 });
    expect(firstMismatch(emaSeries(12, closes), expected, TIGHT)).toBeNull();
  });

  it('stays exactly on the price of a flat market (TA-Lib seeds it 6e-21 off)', () => {
    const flat = new Array(40).fill(0.00001234);
    expect(emaSeries(12, flat).slice(11)).toEqual(new Array(29).fill(0.00001234));
    expect(talibReal('EMA', { inReal: flat }, { optInTimePeriod: 12 })[11]).toBe(0.000012340000000000006);
  });

  it('refuses period 1, like TA-Lib', () => {
    expect(() => new Ema(1)).toThrow(/period must be an integer from 2/);
  });
});
