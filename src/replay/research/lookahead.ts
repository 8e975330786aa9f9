/**
 * `check lookahead`: does a strategy's decision on a candle depend on candles after it? In the
 * spirit of freqtrade's lookahead-analysis: a strategy is run on the full history, then again on
 * the history cut right after a candle, and the signals it emits up to the cut must be identical
 * in both runs (direction and every indicator value carried by the signal).
 *
 * A strategy is given as a factory of the history it may see (`StrategyFactory`): the built-ins
 * ignore it (they only ever see candles one by one through update()), but a strategy that
 * precomputes anything over the data it is handed — a vectorised indicator, a normalisation over
 * the whole series, a `shift(-1)` — would see the future there; cutting the history takes that
 * future away, and the check reports the signal that changed.
 *
 * Cut points: up to `samples` of the full run's signal candles (evenly spread: these are where a
 * look-ahead changes a decision) plus up to `samples` other candles drawn with the seed (where a
 * look-ahead may create a decision the full run does not have). For each cut c the strategy is
 * rebuilt from candles 0..c, fed them, and its signals on 0..c are compared with the full run's;
 * the first difference is reported.
 */

import { Random } from '../../domain/performance/random.js';
import type { CandleBar, Signal, StrategyDefinition } from '../../domain/strategies/index.js';
import type { CandleSeries, SymbolColumns } from '../backtest/candle-series.js';

/** Builds a strategy from the history it may see (a built-in: `() => builtInStrategy(...)`). */
export type StrategyFactory = (history: SymbolColumns, symbol: string) => StrategyDefinition;

export interface LookaheadOptions {
  /** signal cuts and other cuts, each (default 50) */
  samples?: number;
  seed?: number;
}

export interface SignalView {
  direction: string;
  indicators: Record<string, number>;
}

export interface LookaheadFinding {
  symbol: string;
  /** the last candle of the truncated history */
  cut: { index: number; openTime: number };
  /** the first candle whose signal differs */
  at: { index: number; openTime: number };
  full: SignalView | null;
  truncated: SignalView | null;
}

export interface LookaheadSymbol {
  symbol: string;
  candles: number;
  signals: number;
  cuts: number;
  differences: number;
}

export interface LookaheadResult {
  strategy: string;
  params: Record<string, number>;
  symbols: LookaheadSymbol[];
  /** every cut with a difference (its first difference) */
  findings: LookaheadFinding[];
  biased: boolean;
}

/** Columns 0..end (exclusive), as views. */
export function historyUpTo(col: SymbolColumns, end: number): SymbolColumns {
  return {
    openTime: col.openTime.subarray(0, end),
    open: col.open.subarray(0, end),
    high: col.high.subarray(0, end),
    low: col.low.subarray(0, end),
    close: col.close.subarray(0, end),
    volume: col.volume.subarray(0, end),
  };
}

export function barAt(col: SymbolColumns, i: number): CandleBar {
  return {
    openTime: col.openTime[i]!,
    open: col.open[i]!,
    high: col.high[i]!,
    low: col.low[i]!,
    close: col.close[i]!,
    volume: col.volume[i]!,
  };
}

/** The signals of a fresh instance fed candles 0..end-1 (index → signal). */
export function signalsOf(
  definition: StrategyDefinition,
  symbol: string,
  col: SymbolColumns,
  end: number,
): Map<number, Signal> {
  const instance = definition.create(symbol);
  const out = new Map<number, Signal>();
  for (let i = 0; i < end; i++) {
    const s = instance.update(barAt(col, i));
    if (s !== null) out.set(i, s);
  }
  return out;
}

export function sameSignal(a: Signal | undefined, b: Signal | undefined, tolerance = 0): boolean {
  if (a === undefined || b === undefined) return a === b;
  if (a.direction !== b.direction) return false;
  const ka = Object.keys(a.indicators);
  const kb = Object.keys(b.indicators);
  if (ka.length !== kb.length) return false;
  for (const k of ka) {
    const x = a.indicators[k];
    const y = b.indicators[k];
    if (x === undefined || y === undefined) return false;
    if (tolerance === 0 ? x !== y : Math.abs(x - y) > tolerance * Math.max(Math.abs(y), 1e-12)) return false;
  }
  return true;
}

export function signalView(s: Signal | undefined): SignalView | null {
  return s === undefined ? null : { direction: s.direction, indicators: { ...s.indicators } };
}

function evenlySpaced(items: readonly number[], count: number): number[] {
  if (items.length <= count) return [...items];
  return Array.from({ length: count }, (_, j) => items[Math.floor(((j + 0.5) * items.length) / count)]!);
}

export function checkLookahead(
  series: CandleSeries,
  factory: StrategyFactory,
  options: LookaheadOptions = {},
): LookaheadResult {
  const samples = options.samples ?? 50;
  const random = new Random(options.seed ?? 1);
  const findings: LookaheadFinding[] = [];
  const symbols: LookaheadSymbol[] = [];
  let described: StrategyDefinition | null = null;
  series.symbols.forEach((symbol, s) => {
    const col = series.columns[s]!;
    const n = col.openTime.length;
    const definition = factory(col, symbol);
    described ??= definition;
    const full = signalsOf(definition, symbol, col, n);
    const signalCuts = evenlySpaced(
      [...full.keys()].sort((a, b) => a - b),
      samples,
    );
    const chosen = new Set(signalCuts);
    const others: number[] = [];
    for (let tries = 0; others.length < Math.min(samples, n - chosen.size) && tries < samples * 20; tries++) {
      const c = random.int(n);
      if (chosen.has(c)) continue;
      chosen.add(c);
      others.push(c);
    }
    const cuts = [...chosen].sort((a, b) => a - b);
    let differences = 0;
    for (const c of cuts) {
      const history = historyUpTo(col, c + 1);
      const truncated = signalsOf(factory(history, symbol), symbol, history, c + 1);
      for (let i = 0; i <= c; i++) {
        const a = full.get(i);
        const b = truncated.get(i);
        if (a === undefined && b === undefined) continue;
        if (sameSignal(a, b)) continue;
        differences++;
        findings.push({
          symbol,
          cut: { index: c, openTime: col.openTime[c]! },
          at: { index: i, openTime: col.openTime[i]! },
          full: signalView(a),
          truncated: signalView(b),
        });
        break;
      }
    }
    symbols.push({ symbol, candles: n, signals: full.size, cuts: cuts.length, differences });
  });
  const d = described as StrategyDefinition | null;
  return {
    strategy: d?.name ?? 'unknown',
    params: { ...(d?.params ?? {}) },
    symbols,
    findings,
    biased: findings.length > 0,
  };
}
