/**
 * One research run: a strategy with one set of parameters over one window of a CandleSeries,
 * through `simulate` (the backtest core: one TradingKernel, the paper exchange, the risk rules
 * of the config), scored by an objective.
 *
 * Warm-up: with `warmupCandles` > 0 the run starts that many candles (of the timeframe) before
 * `from`; the strategy sees those candles (its indicators and the kernel's ATR warm up) but every
 * signal from a candle opening before `from` is dropped (gatedStrategy), so nothing trades before
 * `from`. The equity curve and the metrics then cover only the candles opening at or after
 * `from`, starting from the equity at `from` (the initial cash: nothing traded before).
 *
 * Objectives map onto the metrics of src/domain/performance/metrics.ts: sharpe, sortino, calmar,
 * profit (= totalReturn). Higher is better; a metric that is undefined (null: e.g. no variation,
 * no drawdown) ranks below every number.
 */
import type { KernelConfig } from '../../domain/kernel/config.js';
import type { PositionView } from '../../domain/kernel/trading-kernel.js';
import { timeframeMs } from '../../domain/market/timeframe.js';
import { computeMetrics, dailyReturns, type Metrics } from '../../domain/performance/metrics.js';
import type { ClosedTrade } from '../../domain/portfolio/position.js';
import type { CandleBar, StrategyDefinition, StrategyInstance } from '../../domain/strategies/index.js';
import type { CandleSeries } from '../backtest/candle-series.js';
import { simulate } from '../backtest/simulate.js';

export type Objective = 'sharpe' | 'sortino' | 'calmar' | 'profit';
export const OBJECTIVES: readonly Objective[] = ['sharpe', 'sortino', 'calmar', 'profit'];

export function objectiveValue(metrics: Metrics, objective: Objective): number | null {
  const v = objective === 'profit' ? metrics.totalReturn : metrics[objective];
  return v === null || !Number.isFinite(v) ? null : v;
}

/** Descending by value, undefined (null) last; ties keep the given order. */
export function compareObjective(a: number | null, b: number | null): number {
  if (a === null) return b === null ? 0 : 1;
  if (b === null) return -1;
  return b - a;
}

/** What a research run needs besides the parameters; plain data (it is posted to workers). */
export interface RunSpec {
  /** a built-in strategy name */
  readonly strategy: string;
  readonly config: KernelConfig;
  /** the symbols to trade (default: every symbol of the series) */
  readonly symbols?: readonly string[];
  /** trading window: candles opening in [from, to) (epoch ms; default: the whole series) */
  readonly from?: number;
  readonly to?: number;
  /** candles before `from` that warm the indicators without trading (default 0) */
  readonly warmupCandles?: number;
}

export interface WindowResult {
  readonly metrics: Metrics;
  /** the curve from `from` on (see the module comment) */
  readonly equity: { readonly time: Float64Array; readonly equity: Float64Array };
  readonly startEquity: number;
  readonly trades: readonly ClosedTrade[];
  readonly openPositions: readonly PositionView[];
  /** candles handled by the kernel, warm-up included */
  readonly dataPoints: number;
  /** daily UTC returns of the curve (metrics.ts's dailyReturns) */
  readonly dailyReturns: Float64Array;
}

/** A strategy that sees every candle but whose signals count only from candles opening at or after `from`. */
export function gatedStrategy(definition: StrategyDefinition, from: number): StrategyDefinition {
  const gate = (instance: StrategyInstance): StrategyInstance => ({
    update: (candle: CandleBar) => {
      const signal = instance.update(candle);
      return candle.openTime < from ? null : signal;
    },
    snapshot: () => instance.snapshot(),
  });
  return {
    name: definition.name,
    version: definition.version,
    params: definition.params,
    create: (symbol) => gate(definition.create(symbol)),
    restore: (snapshot, symbol) => gate(definition.restore(snapshot, symbol)),
  };
}

let runCounter = 0;

/** Runs one strategy definition over the spec's window. */
export function runWindow(series: CandleSeries, spec: RunSpec, definition: StrategyDefinition): WindowResult {
  const warmup = spec.warmupCandles ?? 0;
  const gated = warmup > 0 && spec.from !== undefined;
  const start = gated ? spec.from! - warmup * timeframeMs(series.timeframe) : spec.from;
  const result = simulate(
    series,
    {
      config: spec.config,
      context: {
        accountId: 'research',
        mode: 'backtest',
        runId: `research-${++runCounter}`,
        exchange: series.exchange,
        timeframe: series.timeframe,
        symbols: spec.symbols ?? series.symbols,
        strategies: [gated ? gatedStrategy(definition, spec.from!) : definition],
      },
    },
    {
      collect: 'none',
      ...(start !== undefined ? { from: start } : {}),
      ...(spec.to !== undefined ? { to: spec.to } : {}),
    },
  );
  if (!gated) {
    return {
      metrics: result.metrics,
      equity: result.equity,
      startEquity: spec.config.initialCash,
      trades: result.trades,
      openPositions: result.openPositions,
      dataPoints: result.dataPoints,
      dailyReturns: Float64Array.from(
        dailyReturns(spec.config.initialCash, result.equity.time, result.equity.equity),
      ),
    };
  }
  // keep the points of candles opening at or after `from`: close time > from
  const { time, equity } = result.equity;
  let first = 0;
  while (first < time.length && time[first]! <= spec.from!) first++;
  const startEquity = first > 0 ? equity[first - 1]! : spec.config.initialCash;
  const curve = { time: time.subarray(first), equity: equity.subarray(first) };
  const metrics = computeMetrics({
    startEquity,
    times: curve.time,
    equity: curve.equity,
    trades: result.trades,
    openFees: result.openPositions.reduce((s, p) => s + p.fees, 0),
    openSince: result.openPositions.map((p) => p.entryTime),
  });
  return {
    metrics,
    equity: curve,
    startEquity,
    trades: result.trades,
    openPositions: result.openPositions,
    dataPoints: result.dataPoints,
    dailyReturns: Float64Array.from(dailyReturns(startEquity, curve.time, curve.equity)),
  };
}

/** One optimisation trial, as posted to a worker. */
export interface TrialTask {
  readonly index: number;
  readonly params: Readonly<Record<string, number>>;
}

/** What a trial gives back: small (the metrics and one return per day). */
export interface TrialOutcome {
  readonly index: number;
  readonly params: Readonly<Record<string, number>>;
  readonly objective: number | null;
  readonly metrics: Metrics;
  readonly dailyReturns: Float64Array;
  readonly dataPoints: number;
  /** wall time of the run, ms */
  readonly ms: number;
}

export function evaluateTrial(
  series: CandleSeries,
  spec: RunSpec,
  objective: Objective,
  task: TrialTask,
  strategyOf: (params: Readonly<Record<string, number>>) => StrategyDefinition,
): TrialOutcome {
  const started = performance.now();
  const w = runWindow(series, spec, strategyOf(task.params));
  return {
    index: task.index,
    params: task.params,
    objective: objectiveValue(w.metrics, objective),
    metrics: w.metrics,
    dailyReturns: w.dailyReturns,
    dataPoints: w.dataPoints,
    ms: performance.now() - started,
  };
}
