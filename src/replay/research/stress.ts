/**
 * Stress runs: a strategy with fixed parameters over named crash windows (scenarios.ts) or any
 * window, each next to what holding the market did, optionally with a Monte Carlo of its trade
 * order (src/domain/performance/monte-carlo.ts).
 *
 * A window is one evaluate.ts run: warm-up candles before `from` feed the indicators without
 * trading; metrics cover [from, to). The market comparison per symbol: buy and hold from the
 * first candle's open to the last candle's close in the window, and the largest peak-to-trough
 * fall of its closes.
 */
import { type Metrics, maxDrawdown } from '../../domain/performance/metrics.js';
import {
  type MonteCarloMethod,
  type MonteCarloResult,
  tradeOrderMonteCarlo,
  tradeReturnsOnEquity,
} from '../../domain/performance/monte-carlo.js';
import type { ClosedTrade } from '../../domain/portfolio/position.js';
import { type CandleSeries, lowerBound } from '../backtest/candle-series.js';
import { type RunSpec, runWindow } from './evaluate.js';
import { type ParamValues, strategyWith } from './param-space.js';

export interface StressWindow {
  /** a scenario name, or "custom" */
  name: string;
  title: string;
  from: number;
  to: number;
}

export interface MonteCarloSettings {
  runs: number;
  seed: number;
  method: MonteCarloMethod;
}

export interface MarketMove {
  symbol: string;
  candles: number;
  /** last close / first open − 1; null without candles */
  buyAndHold: number | null;
  /** the largest fall of the closes from a running peak, as a fraction */
  maxDrawdown: number | null;
}

export interface StressRun {
  window: StressWindow;
  params: ParamValues;
  metrics: Metrics;
  trades: readonly ClosedTrade[];
  market: MarketMove[];
  monteCarlo: MonteCarloResult | null;
}

export function marketMoves(series: CandleSeries, from: number, to: number): MarketMove[] {
  return series.symbols.map((symbol, s) => {
    const col = series.columns[s]!;
    const a = lowerBound(col.openTime, from);
    const b = lowerBound(col.openTime, to);
    if (b <= a) return { symbol, candles: 0, buyAndHold: null, maxDrawdown: null };
    return {
      symbol,
      candles: b - a,
      buyAndHold: col.close[b - 1]! / col.open[a]! - 1,
      maxDrawdown: maxDrawdown(col.close.subarray(a, b)),
    };
  });
}

export function stressRun(
  series: CandleSeries,
  spec: RunSpec,
  params: ParamValues,
  window: StressWindow,
  monteCarlo: MonteCarloSettings | null,
): StressRun {
  const result = runWindow(
    series,
    { ...spec, from: window.from, to: window.to },
    strategyWith(spec.strategy, params),
  );
  let mc: MonteCarloResult | null = null;
  if (monteCarlo !== null && result.trades.length > 0) {
    const returns = tradeReturnsOnEquity(
      result.trades,
      result.equity.time,
      result.equity.equity,
      result.startEquity,
    );
    mc = tradeOrderMonteCarlo(returns, { ...monteCarlo, startEquity: result.startEquity });
  }
  return {
    window,
    params,
    metrics: result.metrics,
    trades: result.trades,
    market: marketMoves(series, window.from, window.to),
    monteCarlo: mc,
  };
}
