import { describe, expect, it } from 'vitest';
import { Bollinger } from './bollinger.js';
import { firstMismatch, TIGHT } from './testing/compare.js';
import { btcMinutes20210519, hourly, scaled } from './testing/fixtures.js';
import { talibSeries } from './testing/talib-oracle.js';

const bandsSeries = (period: number, k: number, xs: readonly number[]) => {
  const bands = new Bollinger(period, k);
  const out = { upper: [] as number[], middle: [] as number[], lower: [] as number[] };
  for (const x of xs) {
    bands.update(x);
    out.upper.push(bands.upper);
    out.middle.push(bands.middle);
    out.lower.push(bands.lower);
  }
  return out;
};
const talibBands = (period: number, k: number, xs: readonly number[]) => {
  const options = { optInTimePeriod: period, optInNbDevUp: k, optInNbDevDn: k, optInMAType: 0 };
  const series = talibSeries('BBANDS', { inReal: xs }, options);
  return {
    upper: series.outRealUpperBand!,
    middle: series.outRealMiddleBand!,
    lower: series.outRealLowerBand!,
  };
};

const PARAMETERS: [period: number, k: number][] = [
  [5, 2],
  [20, 2],
  [20, 1.5],
  [50, 3],
];

describe('Bollinger', () => {
  describe.each([hourly('BTC'), btcMinutes20210519()])('on $name', (bars) => {
    it.each(PARAMETERS)('matches TA-Lib BBANDS(%i, %d) index by index, warm-up included', (period, k) => {
      const ours = bandsSeries(period, k, bars.close);
      const theirs = talibBands(period, k, bars.close);
      expect(firstMismatch(ours.upper, theirs.upper, TIGHT)).toBeNull();
      expect(firstMismatch(ours.middle, theirs.middle, TIGHT)).toBeNull();
      expect(firstMismatch(ours.lower, theirs.lower, TIGHT)).toBeNull();
    });
  });

  it('defaults to 20 periods and 2 deviations, first value at index 19', () => {
    const bands = new Bollinger();
    expect([bands.period, bands.k, bands.lookback]).toEqual([20, 2, 19]);
    const ours = bandsSeries(20, 2, hourly('BTC').close.slice(0, 25));
    expect(ours.middle.findIndex((v) => !Number.isNaN(v))).toBe(19);
  });

  it.each([1, 19, 20])('on a series of %i values (period 20) agrees with TA-Lib', (length) => {
    const closes = hourly('BTC').close.slice(0, length);
    expect(
      firstMismatch(bandsSeries(20, 2, closes).upper, talibBands(20, 2, closes).upper, TIGHT),
    ).toBeNull();
  });

  it('has zero width on a flat market, also right after a volatile stretch (unlike TA-Lib)', () => {
    const closes = hourly('BTC').close.slice(0, 50);
    const price = 4077.77; // where the market jumps to and stays (see RollingStdDev's test)
    const withFlat = [...closes, ...new Array(40).fill(price)];
    const ours = bandsSeries(20, 2, withFlat);
    expect([ours.upper[89], ours.middle[89], ours.lower[89]]).toEqual([price, price, price]);
    const theirs = talibBands(20, 2, withFlat);
    expect(theirs.upper[89]! - theirs.lower[89]!).toBeGreaterThan(1.5e-4); // 4 x TA-Lib's residual 4.3e-5

    const flatFromStart = bandsSeries(20, 2, new Array(30).fill(0.1));
    expect(flatFromStart.upper.slice(19)).toEqual(new Array(11).fill(0.1));
    expect(flatFromStart.lower.slice(19)).toEqual(new Array(11).fill(0.1));
  });

  it('keeps its width at prices around 0.00001, where TA-Lib collapses the bands', () => {
    const factor = 2 ** -30; // exact scaling: BTC 4,000..20,000 becomes 0.0000037..0.000019
    const ours = bandsSeries(20, 2, hourly('BTC').close);
    const tiny = bandsSeries(20, 2, scaled(hourly('BTC'), factor).close);
    expect(tiny.upper).toEqual(ours.upper.map((v) => v * factor));
    expect(tiny.lower).toEqual(ours.lower.map((v) => v * factor));
    const theirs = talibBands(20, 2, scaled(hourly('BTC'), factor).close);
    const collapsed = theirs.upper.filter((v, i) => v === theirs.middle[i]).length;
    expect(collapsed).toBeGreaterThan(1000);
  });

  it('refuses a non-positive k or a period below 2', () => {
    expect(() => new Bollinger(20, 0)).toThrow(/k must be a positive finite number/);
    expect(() => new Bollinger(1, 2)).toThrow(/period must be an integer from 2/);
  });
});
