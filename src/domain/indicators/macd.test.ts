import { describe, expect, it } from 'vitest';
import { Ema } from './ema.js';
import { Macd } from './macd.js';
import { firstMismatch, TIGHT, tightAtScale } from './testing/compare.js';
import { btcMinutes20210519, hourly, scaled } from './testing/fixtures.js';
import { talibSeries } from './testing/talib-oracle.js';

type Periods = [fast: number, slow: number, signal: number];

const macdSeries = ([fast, slow, signal]: Periods, xs: readonly number[]) => {
  const macd = new Macd(fast, slow, signal);
  const out = { macd: [] as number[], signal: [] as number[], histogram: [] as number[] };
  for (const x of xs) {
    macd.update(x);
    out.macd.push(macd.macd);
    out.signal.push(macd.signal);
    out.histogram.push(macd.histogram);
  }
  return out;
};
const talibMacd = ([fast, slow, signal]: Periods, xs: readonly number[]) => {
  const options = { optInFastPeriod: fast, optInSlowPeriod: slow, optInSignalPeriod: signal };
  const series = talibSeries('MACD', { inReal: xs }, options);
  return { macd: series.outMACD!, signal: series.outMACDSignal!, histogram: series.outMACDHist! };
};

const PERIODS: Periods[] = [
  [12, 26, 9],
  [5, 35, 5],
  [3, 10, 16],
  [2, 3, 2],
];

describe('Macd', () => {
  describe.each([hourly('BTC'), btcMinutes20210519(), scaled(hourly('BTC'), 1e-9)])('on $name', (bars) => {
    const tolerance = bars.name.includes(' x ') ? tightAtScale(1e-9) : TIGHT;
    it.each(PERIODS)('matches TA-Lib MACD(%i, %i, %i): macd, signal, histogram', (...periods) => {
      const ours = macdSeries(periods, bars.close);
      const theirs = talibMacd(periods, bars.close);
      expect(firstMismatch(ours.macd, theirs.macd, tolerance)).toBeNull();
      expect(firstMismatch(ours.signal, theirs.signal, tolerance)).toBeNull();
      expect(firstMismatch(ours.histogram, theirs.histogram, tolerance)).toBeNull();
    });
  });

  it('has all three outputs first at index 33 for 12/26/9, like TA-Lib', () => {
    const ours = macdSeries([12, 26, 9], hourly('BTC').close.slice(0, 40));
    expect(ours.macd.findIndex((v) => !Number.isNaN(v))).toBe(33);
    expect(ours.signal.findIndex((v) => !Number.isNaN(v))).toBe(33);
    expect(ours.histogram.findIndex((v) => !Number.isNaN(v))).toBe(33);
    expect(new Macd().lookback).toBe(33);
  });

  it('needs the seed alignment: a fast EMA seeded on prices 0..11 misses TA-Lib by far more than 1e-9', () => {
    const closes = hourly('BTC').close.slice(0, 300);
    const fast = new Ema(12);
    const slow = new Ema(26);
    const naive = closes.map((x) => fast.update(x).value - slow.update(x).value);
    const aligned = macdSeries([12, 26, 9], closes).macd;
    const naiveAfterWarmUp = naive.map((v, i) => (i < 33 ? Number.NaN : v));
    expect(firstMismatch(aligned, talibMacd([12, 26, 9], closes).macd, TIGHT)).toBeNull();
    expect(firstMismatch(naiveAfterWarmUp, talibMacd([12, 26, 9], closes).macd, TIGHT)).toMatch(/^index 33:/);
  });

  it.each([1, 25, 26, 33, 34])('on a series of %i prices (12/26/9) agrees with TA-Lib', (length) => {
    const closes = hourly('BTC').close.slice(0, length);
    const ours = macdSeries([12, 26, 9], closes);
    const theirs = talibMacd([12, 26, 9], closes);
    expect(firstMismatch(ours.macd, theirs.macd, TIGHT)).toBeNull();
    expect(firstMismatch(ours.signal, theirs.signal, TIGHT)).toBeNull();
  });

  it('is exactly 0 on a flat market, where TA-Lib leaves a residue of its seeds', () => {
    const flat = new Array(50).fill(0.1);
    const ours = macdSeries([12, 26, 9], flat);
    expect(ours.macd.slice(33)).toEqual(new Array(17).fill(0));
    expect(ours.signal.slice(33)).toEqual(new Array(17).fill(0));
    expect(ours.histogram.slice(33)).toEqual(new Array(17).fill(0));
    expect(talibMacd([12, 26, 9], flat).macd[49]).toBeCloseTo(-4.163e-17, 19);
  });

  it('refuses signal period 1, where TA-Lib shifts its output by a bar', () => {
    const closes = hourly('BTC').close.slice(0, 10);
    expect(talibMacd([2, 3, 1], closes).macd.findIndex((v) => !Number.isNaN(v))).toBe(1); // lookback is 2
    expect(() => new Macd(2, 3, 1)).toThrow(/signalPeriod must be an integer from 2/);
  });

  it('refuses fast >= slow instead of swapping them silently like TA-Lib', () => {
    expect(() => new Macd(26, 12, 9)).toThrow(/fastPeriod 26 must be below slowPeriod 12/);
    expect(() => new Macd(12, 12, 9)).toThrow(/must be below/);
  });
});
