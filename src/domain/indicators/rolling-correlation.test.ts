import { describe, expect, it } from 'vitest';
import { RollingCorrelation } from './rolling-correlation.js';
import { firstMismatch, TIGHT } from './testing/compare.js';
import { btcMinutes20210519, hourly, simpleReturns } from './testing/fixtures.js';
import { talibReal } from './testing/talib-oracle.js';

const correlationSeries = (period: number, a: readonly number[], b: readonly number[]) => {
  const correlation = new RollingCorrelation(period);
  return a.map((x, i) => correlation.update(x, b[i]!).value);
};
const talibCorrelation = (period: number, a: readonly number[], b: readonly number[]) =>
  talibReal('CORREL', { inReal0: a, inReal1: b }, { optInTimePeriod: period });

function twoPassPearson(a: readonly number[], b: readonly number[]): number {
  const mean = (xs: readonly number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
  const [ma, mb] = [mean(a), mean(b)];
  let [sab, saa, sbb] = [0, 0, 0];
  a.forEach((x, i) => {
    sab += (x - ma) * (b[i]! - mb);
    saa += (x - ma) ** 2;
    sbb += (b[i]! - mb) ** 2;
  });
  return sab / Math.sqrt(saa * sbb);
}

const PAIRS = [
  {
    name: 'BTC/ETH 1h returns',
    a: simpleReturns(hourly('BTC').close),
    b: simpleReturns(hourly('ETH').close),
  },
  {
    name: 'BTC 1m close/high returns',
    a: simpleReturns(btcMinutes20210519().close),
    b: simpleReturns(btcMinutes20210519().high),
  },
];

describe('RollingCorrelation', () => {
  describe.each(PAIRS)('on $name', ({ a, b }) => {
    it.each([5, 20, 60])('matches TA-Lib CORREL(%i) index by index, warm-up included', (period) => {
      expect(
        firstMismatch(correlationSeries(period, a, b), talibCorrelation(period, a, b), TIGHT),
      ).toBeNull();
    });
  });

  it("on 3-bar windows of 1m returns matches TA-Lib, except where TA-Lib's epsilon zeroes a real correlation", () => {
    const { a, b } = PAIRS[1]!;
    const ours = correlationSeries(3, a, b);
    const theirs = talibCorrelation(3, a, b);
    const zeroedByTalib = theirs.flatMap((r, i) => (r === 0 && ours[i] !== 0 ? [i] : []));
    expect(zeroedByTalib.length).toBe(5);
    const elsewhere = theirs.map((r, i) => (zeroedByTalib.includes(i) ? ours[i]! : r));
    expect(firstMismatch(ours, elsewhere, TIGHT)).toBeNull();
    for (const i of zeroedByTalib) {
      expect(ours[i]).toBeCloseTo(twoPassPearson(a.slice(i - 2, i + 1), b.slice(i - 2, i + 1)), 9);
    }
  });

  it('is +1 / -1 for linearly related series and stays within [-1, 1]', () => {
    const { a } = PAIRS[0]!;
    const up = correlationSeries(
      20,
      a,
      a.map((x) => 3 * x + 0.01),
    );
    const down = correlationSeries(
      20,
      a,
      a.map((x) => -2 * x),
    );
    expect(up.slice(19).filter((r) => Math.abs(r - 1) > 1e-12)).toEqual([]);
    expect(down.slice(19).filter((r) => Math.abs(r + 1) > 1e-12)).toEqual([]);
    expect([...up, ...down].filter((r) => Math.abs(r) > 1)).toEqual([]);
  });

  it('is 0 when a series is constant over the window, like TA-Lib, even after a volatile stretch', () => {
    const { a, b } = PAIRS[0]!;
    const flatA = [...a.slice(0, 50), ...new Array(30).fill(0)];
    const ours = correlationSeries(20, flatA, b.slice(0, 80));
    expect(ours.slice(69)).toEqual(new Array(11).fill(0));
    expect(talibCorrelation(20, flatA, b.slice(0, 80)).slice(69)).toEqual(new Array(11).fill(0));
    const steadyA = [...a.slice(0, 50), ...new Array(30).fill(0.0004)]; // a steady drift, not 0
    expect(correlationSeries(20, steadyA, b.slice(0, 80)).slice(69)).toEqual(new Array(11).fill(0));
  });

  it('does not depend on scale, where TA-Lib zeroes a quarter of quiet 1-minute windows', () => {
    // 1m BTC returns divided by 32: median |return| 7e-5, what a calm day or a major pair gives.
    const { a, b } = PAIRS[1]!;
    const quietA = a.map((x) => x * 2 ** -5);
    const quietB = b.map((x) => x * 2 ** -5);
    expect(correlationSeries(20, quietA, quietB)).toEqual(correlationSeries(20, a, b));
    const zeroed = talibCorrelation(20, quietA, quietB).filter((r) => r === 0).length;
    expect(zeroed).toBeGreaterThan(300);
  });

  it.each([1, 19, 20])('on a series of %i pairs (period 20) agrees with TA-Lib', (length) => {
    const { a, b } = PAIRS[0]!;
    const [x, y] = [a.slice(0, length), b.slice(0, length)];
    expect(firstMismatch(correlationSeries(20, x, y), talibCorrelation(20, x, y), TIGHT)).toBeNull();
    expect(new RollingCorrelation(20).lookback).toBe(19);
  });

  it('refuses period 1 (a single pair has no correlation)', () => {
    expect(() => new RollingCorrelation(1)).toThrow(/period must be an integer from 2/);
  });
});
