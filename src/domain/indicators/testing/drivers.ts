/**
 * Every indicator behind one shape, so that properties (snapshot/restore, reset, scaling) run
 * over all of them: feed it bars, read its outputs, save and resume it.
 */
import { Atr, type AtrSnapshot } from '../atr.js';
import { Bollinger, type BollingerSnapshot } from '../bollinger.js';
import { Ema, type EmaSnapshot } from '../ema.js';
import { Macd, type MacdSnapshot } from '../macd.js';
import { RollingCorrelation, type RollingCorrelationSnapshot } from '../rolling-correlation.js';
import { RollingStdDev, type RollingStdDevSnapshot } from '../rolling-std-dev.js';
import { Rsi, type RsiSnapshot } from '../rsi.js';
import { Sma, type SmaSnapshot } from '../sma.js';

/** One step of input: OHLC-ish prices plus a second series for the correlation. */
export interface Bar {
  readonly high: number;
  readonly low: number;
  readonly close: number;
  readonly other: number;
}

interface Indicator {
  snapshot(): object;
  reset(): void;
}

export interface Driver {
  readonly name: string;
  /** true when outputs are prices (they scale with the input), false for RSI and correlation */
  readonly priceLike: boolean;
  /**
   * Outputs after each bar. With resumeAt, the indicator is snapshotted after that many bars,
   * the snapshot goes through JSON (as it would through storage) and a restored instance goes on.
   */
  run(bars: readonly Bar[], resumeAt?: number): number[][];
  /** Outputs of the second pass after feeding `before`, calling reset(), then feeding `bars`. */
  runAfterReset(before: readonly Bar[], bars: readonly Bar[]): number[][];
  /** The JSON text of the snapshot after feeding `bars`. */
  snapshotJson(bars: readonly Bar[]): string;
}

function driver<T extends Indicator>(spec: {
  name: string;
  priceLike: boolean;
  create: () => T;
  restore: (snapshot: never) => T;
  feed: (indicator: T, bar: Bar) => void;
  read: (indicator: T) => number[];
}): Driver {
  const feedAll = (indicator: T, bars: readonly Bar[], out: number[][]) => {
    for (const bar of bars) {
      spec.feed(indicator, bar);
      out.push(spec.read(indicator));
    }
  };
  return {
    name: spec.name,
    priceLike: spec.priceLike,
    run(bars, resumeAt) {
      const out: number[][] = [];
      const split = resumeAt ?? bars.length;
      const first = spec.create();
      feedAll(first, bars.slice(0, split), out);
      const resumed =
        resumeAt === undefined ? first : spec.restore(JSON.parse(JSON.stringify(first.snapshot())) as never);
      feedAll(resumed, bars.slice(split), out);
      return out;
    },
    runAfterReset(before, bars) {
      const indicator = spec.create();
      feedAll(indicator, before, []);
      indicator.reset();
      const out: number[][] = [];
      feedAll(indicator, bars, out);
      return out;
    },
    snapshotJson(bars) {
      const indicator = spec.create();
      feedAll(indicator, bars, []);
      return JSON.stringify(indicator.snapshot());
    },
  };
}

/** All indicators with the given base period (2 or more). */
export function allDrivers(period: number): Driver[] {
  return [
    driver({
      name: `Sma(${period})`,
      priceLike: true,
      create: () => new Sma(period),
      restore: (s: SmaSnapshot) => Sma.restore(s),
      feed: (sma, bar) => sma.update(bar.close),
      read: (sma) => [sma.value],
    }),
    driver({
      name: `Ema(${period})`,
      priceLike: true,
      create: () => new Ema(period),
      restore: (s: EmaSnapshot) => Ema.restore(s),
      feed: (ema, bar) => ema.update(bar.close),
      read: (ema) => [ema.value],
    }),
    driver({
      name: `Rsi(${period})`,
      priceLike: false,
      create: () => new Rsi(period),
      restore: (s: RsiSnapshot) => Rsi.restore(s),
      feed: (rsi, bar) => rsi.update(bar.close),
      read: (rsi) => [rsi.value],
    }),
    driver({
      name: `Macd(${period}, ${period + 3}, ${period})`,
      priceLike: true,
      create: () => new Macd(period, period + 3, period),
      restore: (s: MacdSnapshot) => Macd.restore(s),
      feed: (macd, bar) => macd.update(bar.close),
      read: (macd) => [macd.macd, macd.signal, macd.histogram],
    }),
    driver({
      name: `Bollinger(${period}, 2)`,
      priceLike: true,
      create: () => new Bollinger(period, 2),
      restore: (s: BollingerSnapshot) => Bollinger.restore(s),
      feed: (bands, bar) => bands.update(bar.close),
      read: (bands) => [bands.upper, bands.middle, bands.lower, bands.stdDev],
    }),
    driver({
      name: `Atr(${period})`,
      priceLike: true,
      create: () => new Atr(period),
      restore: (s: AtrSnapshot) => Atr.restore(s),
      feed: (atr, bar) => atr.update(bar.high, bar.low, bar.close),
      read: (atr) => [atr.value],
    }),
    driver({
      name: `RollingStdDev(${period})`,
      priceLike: true,
      create: () => new RollingStdDev(period),
      restore: (s: RollingStdDevSnapshot) => RollingStdDev.restore(s),
      feed: (stats, bar) => stats.update(bar.close),
      read: (stats) => [stats.mean, stats.stdDev],
    }),
    driver({
      name: `RollingCorrelation(${period})`,
      priceLike: false,
      create: () => new RollingCorrelation(period),
      restore: (s: RollingCorrelationSnapshot) => RollingCorrelation.restore(s),
      feed: (correlation, bar) => correlation.update(bar.close, bar.other),
      read: (correlation) => [correlation.value],
    }),
  ];
}

/** Same bits everywhere (NaN equals NaN, 0 differs from -0): "identical", not "close". */
export function identical(a: readonly (readonly number[])[], b: readonly (readonly number[])[]): boolean {
  return a.length === b.length && a.every((row, i) => row.every((x, j) => Object.is(x, b[i]![j])));
}
