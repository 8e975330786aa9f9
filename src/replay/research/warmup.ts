/**
 * `check warmup`: how many startup candles does a strategy need before its values stop depending
 * on where the data began? In the spirit of freqtrade's recursive-analysis. Recursive indicators
 * (EMA, Wilder's RSI) never forget their seed entirely; the question is how long until the seed no
 * longer matters within a tolerance.
 *
 * Reference: one run over all the data from its first candle. Targets: `samples` candles spread
 * evenly over the data (each with at least the largest warm-up before it). For each warm-up
 * length w and target t, a fresh run starts at candle t − w:
 *  - indicator values at t (the probe: the indicators the built-in strategy computes, rebuilt
 *    with the same classes and parameters) are compared with the reference's at t, as relative
 *    differences |x − ref| / |ref| (a value not yet available counts as infinitely different);
 *  - the strategy's signals on candles t .. t + horizon − 1 are compared with the reference's:
 *    a signal present in one run and not the other, or of another direction, is a mismatch
 *    (the indicator values a signal carries are not compared: a spread at a crossing is near
 *    zero, where a relative tolerance means nothing; the probe compares the indicators).
 * The startup candles needed: the smallest w such that it and every longer w tested agree within
 * the tolerance with no signal mismatch; null when even the longest does not (a finding).
 */

import { ConfigError } from '../../domain/errors.js';
import { Ema } from '../../domain/indicators/ema.js';
import { Rsi } from '../../domain/indicators/rsi.js';
import type { CandleBar, Signal, StrategyDefinition } from '../../domain/strategies/index.js';
import type { CandleSeries } from '../backtest/candle-series.js';
import { barAt, type SignalView, type StrategyFactory, signalView } from './lookahead.js';

/** The indicator values a strategy computes, on every candle (NaN before they exist). */
export interface IndicatorProbe {
  readonly names: readonly string[];
  /** the longest indicator lookback (candles before the first value) */
  readonly lookback: number;
  update(bar: CandleBar): readonly number[];
}

/** A probe for a built-in strategy; null for others (their signals are still compared). */
export function builtInProbe(definition: StrategyDefinition): (() => IndicatorProbe) | null {
  const p = definition.params;
  if (definition.name === 'ema-cross') {
    return () => {
      const fast = new Ema(p.fast!);
      const slow = new Ema(p.slow!);
      const out = [Number.NaN, Number.NaN];
      return {
        names: ['emaFast', 'emaSlow'],
        lookback: Math.max(fast.lookback, slow.lookback),
        update: (bar) => {
          out[0] = fast.update(bar.close).value;
          out[1] = slow.update(bar.close).value;
          return out;
        },
      };
    };
  }
  if (definition.name === 'rsi-reversion') {
    return () => {
      const rsi = new Rsi(p.period!);
      const out = [Number.NaN];
      return {
        names: ['rsi'],
        lookback: rsi.lookback,
        update: (bar) => {
          out[0] = rsi.update(bar.close).ready ? rsi.value : Number.NaN;
          return out;
        },
      };
    };
  }
  return null;
}

export interface WarmupOptions {
  /** warm-up lengths to test, in candles (default: multiples of the probe's lookback + 1) */
  warmups?: readonly number[];
  /** targets per symbol (default 10) */
  samples?: number;
  /** relative tolerance (default 1e-4 = 0.01%) */
  tolerance?: number;
  /** candles after each target whose signals are compared (default 200) */
  horizon?: number;
  /** override the probe (tests; strategies that are not built in) */
  probe?: (() => IndicatorProbe) | null;
}

export interface WarmupRow {
  warmup: number;
  /** the largest relative difference per indicator, over targets and symbols (null: no probe) */
  maxDifference: Record<string, number>;
  /** signals that differ from the reference's, over targets and symbols */
  signalMismatches: number;
  signalsCompared: number;
  stable: boolean;
}

export interface WarmupMismatch {
  symbol: string;
  warmup: number;
  openTime: number;
  reference: SignalView | null;
  warmedUp: SignalView | null;
}

export interface WarmupResult {
  strategy: string;
  params: Record<string, number>;
  tolerance: number;
  horizon: number;
  lookback: number | null;
  targets: number;
  rows: WarmupRow[];
  /** the startup candles needed; null when even the longest warm-up tested disagrees */
  startupCandles: number | null;
  /** a few signal mismatches at the longest failing warm-up, for the report */
  examples: WarmupMismatch[];
  /** warm-ups asked for but longer than the data */
  skipped: number[];
}

function defaultWarmups(lookback: number | null): number[] {
  const base = (lookback ?? 49) + 1;
  return [...new Set([1, 2, 3, 5, 10, 20].map((k) => k * base))];
}

function relativeDifference(x: number, ref: number): number {
  if (Number.isNaN(x) && Number.isNaN(ref)) return 0;
  if (Number.isNaN(x) || Number.isNaN(ref)) return Number.POSITIVE_INFINITY;
  if (x === ref) return 0;
  return Math.abs(x - ref) / Math.max(Math.abs(ref), 1e-300);
}

export function checkWarmup(
  series: CandleSeries,
  factory: StrategyFactory,
  options: WarmupOptions = {},
): WarmupResult {
  const tolerance = options.tolerance ?? 1e-4;
  const horizon = options.horizon ?? 200;
  const samples = options.samples ?? 10;
  const firstCol = series.columns[0]!;
  const described = factory(firstCol, series.symbols[0]!);
  const probeOf = options.probe === undefined ? builtInProbe(described) : options.probe;
  const lookback = probeOf ? probeOf().lookback : null;
  const shortest = Math.min(...series.columns.map((c) => c.openTime.length));
  const asked = [...new Set(options.warmups ?? defaultWarmups(lookback))].sort((a, b) => a - b);
  // a warm-up needs at least one target after it
  const warmups = asked.filter((w) => Number.isInteger(w) && w >= 1 && w < shortest);
  if (warmups.length === 0) {
    throw new ConfigError(
      `check warmup: ${shortest} candles are too few for warm-ups of ${asked.join(', ')} candles`,
      'use a longer --from/--to or shorter --warmups',
    );
  }
  const names = probeOf ? probeOf().names : [];
  const rows: WarmupRow[] = warmups.map((warmup) => ({
    warmup,
    maxDifference: Object.fromEntries(names.map((n) => [n, 0])),
    signalMismatches: 0,
    signalsCompared: 0,
    stable: true,
  }));
  const mismatches: WarmupMismatch[][] = warmups.map(() => []);
  let targetsTotal = 0;
  series.symbols.forEach((symbol, s) => {
    const col = series.columns[s]!;
    const n = col.openTime.length;
    const longest = warmups[warmups.length - 1]!;
    const lo = longest;
    const hi = n - 1;
    if (hi < lo) return;
    const count = Math.min(samples, hi - lo + 1);
    const targets = Array.from({ length: count }, (_, j) =>
      count === 1 ? lo : lo + Math.round((j * (hi - lo)) / (count - 1)),
    );
    targetsTotal += targets.length;
    const definition = factory(col, symbol);
    // the reference: from the first candle
    const refValues = new Map<number, number[]>();
    const refSignals = new Map<number, Signal>();
    const targetSet = new Set(targets);
    {
      const probe = probeOf?.() ?? null;
      const instance = definition.create(symbol);
      for (let i = 0; i < n; i++) {
        const bar = barAt(col, i);
        if (probe) {
          const v = probe.update(bar);
          if (targetSet.has(i)) refValues.set(i, [...v]);
        }
        const sig = instance.update(bar);
        if (sig !== null) refSignals.set(i, sig);
      }
    }
    warmups.forEach((w, r) => {
      const row = rows[r]!;
      for (const t of targets) {
        const start = t - w;
        if (probeOf) {
          const probe = probeOf();
          let v: readonly number[] = [];
          for (let i = start; i <= t; i++) v = probe.update(barAt(col, i));
          const ref = refValues.get(t)!;
          names.forEach((name, k) => {
            const d = relativeDifference(v[k]!, ref[k]!);
            if (d > row.maxDifference[name]!) row.maxDifference[name] = d;
          });
        }
        const instance = definition.create(symbol);
        const end = Math.min(n, t + horizon);
        for (let i = start; i < end; i++) {
          const sig = instance.update(barAt(col, i)) ?? undefined;
          if (i < t) continue;
          const ref = refSignals.get(i);
          if (sig === undefined && ref === undefined) continue;
          row.signalsCompared++;
          if (sig?.direction !== ref?.direction) {
            row.signalMismatches++;
            if (mismatches[r]!.length < 5)
              mismatches[r]!.push({
                symbol,
                warmup: w,
                openTime: col.openTime[i]!,
                reference: signalView(ref),
                warmedUp: signalView(sig),
              });
          }
        }
      }
    });
  });
  for (const row of rows)
    row.stable = row.signalMismatches === 0 && Object.values(row.maxDifference).every((d) => d <= tolerance);
  let needed: number | null = null;
  for (let r = rows.length - 1; r >= 0 && rows[r]!.stable; r--) needed = rows[r]!.warmup;
  if (targetsTotal === 0) needed = null;
  const lastFailing = rows
    .map((row, r) => (row.stable ? -1 : r))
    .filter((r) => r >= 0)
    .at(-1);
  return {
    strategy: described.name,
    params: { ...described.params },
    tolerance,
    horizon,
    lookback,
    targets: targetsTotal,
    rows,
    startupCandles: needed,
    examples: lastFailing === undefined ? [] : mismatches[lastFailing]!,
    skipped: asked.filter((w) => !warmups.includes(w)),
  };
}
