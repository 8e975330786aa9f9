import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { IndicatorSnapshotError } from './errors.js';
import { Atr, Bollinger, Ema, Macd, RollingCorrelation, RollingStdDev, Rsi, Sma } from './index.js';
import { allDrivers, type Bar, identical } from './testing/drivers.js';
import { hourly } from './testing/fixtures.js';

const btc = hourly('BTC');
const eth = hourly('ETH');
const realBars: Bar[] = btc.close.map((close, i) => ({
  high: btc.high[i]!,
  low: btc.low[i]!,
  close,
  other: eth.close[i]!,
}));

/** A slice of real candles, up to 250 bars. */
const realSlice = fc
  .tuple(fc.integer({ min: 0, max: realBars.length - 1 }), fc.integer({ min: 0, max: 250 }))
  .map(([start, length]) => realBars.slice(start, start + length));

/** Synthetic prices in flat runs, so that windows turn constant and back, across the split too. */
const flatRuns = fc
  .array(
    fc.record({
      price: fc.double({ min: 1e-6, max: 1e6, noNaN: true }),
      repeat: fc.integer({ min: 1, max: 30 }),
    }),
    { maxLength: 20 },
  )
  .map((runs) =>
    runs.flatMap(({ price, repeat }, r): Bar[] =>
      new Array<Bar>(repeat).fill({ high: price * 1.01, low: price * 0.99, close: price, other: r % 3 }),
    ),
  );

const series = fc.oneof(realSlice, flatRuns);
const period = fc.integer({ min: 2, max: 30 });

describe('snapshot / restore', () => {
  it('property: saving anywhere, going through JSON and resuming gives identical outputs', () => {
    fc.assert(
      fc.property(series, period, fc.double({ min: 0, max: 1, noNaN: true }), (bars, p, where) => {
        const resumeAt = Math.floor(where * bars.length);
        for (const driver of allDrivers(p)) {
          if (!identical(driver.run(bars, resumeAt), driver.run(bars))) return false;
        }
        return true;
      }),
      { numRuns: 150 },
    );
  });

  it('property: snapshots are plain JSON, with no NaN or Infinity lost on the way', () => {
    fc.assert(
      fc.property(series, period, (bars, p) =>
        allDrivers(p).every((driver) => !driver.snapshotJson(bars).includes('null')),
      ),
      { numRuns: 100 },
    );
  });

  it('property: reset() gives the outputs of a new instance', () => {
    fc.assert(
      fc.property(series, series, period, (before, bars, p) =>
        allDrivers(p).every((driver) => identical(driver.runAfterReset(before, bars), driver.run(bars))),
      ),
      { numRuns: 100 },
    );
  });

  it('resumes mid-warm-up and right at the first output', () => {
    const bars = realBars.slice(0, 60);
    for (const driver of allDrivers(14)) {
      for (const resumeAt of [0, 1, 13, 14, 15, 16, 17, 33, 60]) {
        expect(identical(driver.run(bars, resumeAt), driver.run(bars)), `${driver.name} at ${resumeAt}`).toBe(
          true,
        );
      }
    }
  });

  it('refuses damaged snapshots with an explained error', () => {
    const sma = new Sma(3).update(1).update(2).update(3).snapshot();
    const bad: [string, () => unknown][] = [
      ['another kind', () => Ema.restore({ ...new Ema(3).snapshot(), kind: 'Sma' as 'Ema' })],
      ['null', () => Sma.restore(null as never)],
      ['a NaN written as null', () => Rsi.restore({ ...new Rsi(3).snapshot(), averageGain: null as never })],
      ['a window longer than the period', () => Sma.restore({ ...sma, window: [1, 2, 3, 4] })],
      [
        'a missing sum',
        () => RollingStdDev.restore({ ...new RollingStdDev(3).snapshot(), sum: undefined as never }),
      ],
      [
        'windows of different lengths',
        () =>
          RollingCorrelation.restore({ ...new RollingCorrelation(3).update(1, 2).snapshot(), windowB: [] }),
      ],
      [
        'a nested snapshot of the wrong kind',
        () => Macd.restore({ ...new Macd().snapshot(), slow: sma as never }),
      ],
      ['a fractional count', () => Atr.restore({ ...new Atr(3).snapshot(), count: 1.5 })],
      ['a string k', () => Bollinger.restore({ ...new Bollinger().snapshot(), k: '2' as never })],
    ];
    for (const [what, restore] of bad) {
      expect(restore, what).toThrow(IndicatorSnapshotError);
    }
  });
});

describe('scaling', () => {
  it('property: prices times a power of two scale price outputs exactly and leave RSI and r unchanged', () => {
    // A power of two changes only exponents, so any absolute epsilon (TA-Lib has 1e-14 ones)
    // would show up here as a difference. BTC at 4,000..20,000 is priced around 0.00001 near 2^-29.
    fc.assert(
      fc.property(realSlice, period, fc.integer({ min: -45, max: 10 }), (bars, p, exponent) => {
        const factor = 2 ** exponent;
        const scaledBars = bars.map((bar) => ({
          high: bar.high * factor,
          low: bar.low * factor,
          close: bar.close * factor,
          other: bar.other * factor,
        }));
        return allDrivers(p).every((driver) => {
          const expected = driver.run(bars).map((row) => row.map((x) => (driver.priceLike ? x * factor : x)));
          return identical(driver.run(scaledBars), expected);
        });
      }),
      { numRuns: 100 },
    );
  });
});
