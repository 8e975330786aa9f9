/**
 * Walk-forward analysis: optimise on a train window, trade the following test window with the
 * winning parameters, move on by the test length, repeat; stitch the test windows' equity into
 * one out-of-sample curve and compare in-sample with out-of-sample performance.
 *
 * Windows (times are candle open times, [from, to)):
 *   train_k = [start_k, start_k + train), test_k = [start_k + train, start_k + train + test),
 *   start_k = from + k × step (step = test by default: test windows tile the period without
 *   overlap). `anchored`: every train window starts at `from` (an expanding window). The last test
 *   window is cut at `to`; a window whose test part is shorter than one day is dropped.
 *
 * State between windows: none carries over. Each test window is a fresh kernel (fresh risk
 * state, no positions) whose indicators are warmed on the candles before the test window (by
 * default the whole train window, `warmupCandles` otherwise) without trading (evaluate.ts's
 * gatedStrategy). Its starting cash is the stitched equity so far, so the stitched curve
 * compounds exactly. Positions still open at the end of a test window are valued at the
 * window's last close minus the taker fee and the base slippage (what closing them would cost),
 * and the next window starts flat with that cash.
 *
 * Degradation: per window, the in-sample value (the best trial's objective on the train window)
 * against the out-of-sample value (the same objective on the test window). Sharpe, Sortino and
 * Calmar are annualised and compare directly; for `profit` both sides are compared as CAGR
 * (train and test windows differ in length). efficiency = OOS / IS (Pardo's walk-forward
 * efficiency) when IS > 0; degradation = 1 − efficiency.
 */
import { ConfigError } from '../../domain/errors.js';
import type { FillConfig } from '../../domain/execution/fill-config.js';
import { timeframeMs } from '../../domain/market/timeframe.js';
import { computeMetrics, type Metrics } from '../../domain/performance/metrics.js';
import type { ClosedTrade } from '../../domain/portfolio/position.js';
import type { CandleSeries } from '../backtest/candle-series.js';
import { type Objective, objectiveValue, type RunSpec, runWindow } from './evaluate.js';
import { createEvaluator, optimize, type TrialEvaluator } from './optimizer.js';
import { type ParamSpec, type ParamValues, strategyWith } from './param-space.js';
import type { SearchOptions } from './search.js';

const DAY_MS = 86_400_000;
const UNITS: Record<string, number> = { m: 60_000, h: 3_600_000, d: DAY_MS, w: 7 * DAY_MS };

/** `180d`, `30d`, `12h`, `4w`, `90m` → milliseconds. */
export function parseDuration(text: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)([mhdw])$/.exec(text.trim());
  if (!m || !(Number(m[1]) > 0))
    throw new ConfigError(`${flag}: "${text}" is not a duration`, 'for example 180d, 30d, 12h or 4w');
  return Number(m[1]) * UNITS[m[2]!]!;
}

export interface WalkForwardOptions {
  series: CandleSeries;
  /** strategy, config, symbols (its from/to/warm-up are ignored: the windows decide) */
  spec: RunSpec;
  params: readonly ParamSpec[];
  objective: Objective;
  search: SearchOptions;
  from: number;
  to: number;
  trainMs: number;
  testMs: number;
  /** default testMs */
  stepMs?: number;
  anchored?: boolean;
  /** candles before each test window that warm the indicators (default: the train window's length) */
  warmupCandles?: number;
  jobs?: number;
  batch?: number;
  maxHeapMb?: number;
  onProgress?: (window: number, windows: number, done: number, planned: number) => void;
}

export interface Span {
  from: number;
  to: number;
}

export interface WalkForwardWindow {
  index: number;
  train: Span;
  test: Span;
  trials: number;
  params: ParamValues;
  inSample: { objective: number | null; comparable: number | null; metrics: Metrics };
  outOfSample: { objective: number | null; comparable: number | null; metrics: Metrics };
  /** OOS / IS of the comparable values; null when IS <= 0 or either is undefined */
  efficiency: number | null;
  startEquity: number;
  endEquity: number;
  /** positions open at the window's end, closed at its last close */
  closedOut: number;
}

export interface WalkForwardResult {
  strategy: string;
  objective: Objective;
  /** what `comparable` means: the objective itself, or cagr for profit */
  comparable: 'sharpe' | 'sortino' | 'calmar' | 'cagr';
  period: Span;
  trainMs: number;
  testMs: number;
  stepMs: number;
  anchored: boolean;
  warmupCandles: number | 'train';
  windows: WalkForwardWindow[];
  stitched: {
    metrics: Metrics;
    objective: number | null;
    comparable: number | null;
    equity: { time: Float64Array; equity: Float64Array };
    trades: (ClosedTrade & { window: number })[];
  };
  summary: {
    windows: number;
    meanInSample: number | null;
    meanOutOfSample: number | null;
    /** mean OOS / mean IS */
    efficiency: number | null;
    /** 1 − efficiency */
    degradation: number | null;
    /** windows whose OOS comparable value is > 0 */
    positiveOutOfSample: number;
  };
  jobs: number;
  wallMs: number;
}

export function walkForwardWindows(
  from: number,
  to: number,
  trainMs: number,
  testMs: number,
  stepMs = testMs,
  anchored = false,
): { train: Span; test: Span }[] {
  if (!(to > from)) throw new ConfigError('walk-forward: --to must be after --from');
  const out: { train: Span; test: Span }[] = [];
  for (let start = from; ; start += stepMs) {
    const trainFrom = anchored ? from : start;
    const testFrom = start + trainMs;
    if (testFrom >= to) break;
    const testTo = Math.min(testFrom + testMs, to);
    if (testTo - testFrom < DAY_MS) break;
    out.push({ train: { from: trainFrom, to: testFrom }, test: { from: testFrom, to: testTo } });
  }
  if (out.length === 0) {
    throw new ConfigError(
      `walk-forward: the period is too short for one train window of ${trainMs / DAY_MS} days and a test window`,
      'use a longer --from/--to or a shorter --train',
    );
  }
  return out;
}

function comparableOf(metrics: Metrics, objective: Objective): number | null {
  if (objective === 'profit') return metrics.cagr;
  return objectiveValue(metrics, objective);
}

/** What closing the open positions at their mark would cost: taker fee + base slippage. */
function closeOutCost(positions: readonly { quantity: number; mark: number }[], fills: FillConfig): number {
  const s = fills.slippage;
  const bps = s.model === 'fixed' ? s.bps : s.baseBps;
  let cost = 0;
  for (const p of positions) cost += p.quantity * p.mark * (fills.feeRate + bps / 10_000);
  return cost;
}

function mean(values: readonly (number | null)[]): number | null {
  const v = values.filter((x): x is number => x !== null);
  return v.length > 0 ? v.reduce((a, b) => a + b, 0) / v.length : null;
}

export async function walkForward(options: WalkForwardOptions): Promise<WalkForwardResult> {
  const { series, objective } = options;
  const spec: RunSpec = {
    strategy: options.spec.strategy,
    config: options.spec.config,
    ...(options.spec.symbols ? { symbols: options.spec.symbols } : {}),
  };
  const stepMs = options.stepMs ?? options.testMs;
  const windows = walkForwardWindows(
    options.from,
    options.to,
    options.trainMs,
    options.testMs,
    stepMs,
    options.anchored,
  );
  const tf = timeframeMs(series.timeframe);
  const started = performance.now();
  const evaluator: TrialEvaluator = createEvaluator(series, spec, objective, {
    jobs: options.jobs ?? 1,
    ...(options.maxHeapMb !== undefined ? { maxHeapMb: options.maxHeapMb } : {}),
  });
  const results: WalkForwardWindow[] = [];
  const times: number[] = [];
  const values: number[] = [];
  const trades: (ClosedTrade & { window: number })[] = [];
  let equity = spec.config.initialCash;
  try {
    for (const [k, w] of windows.entries()) {
      const opt = await optimize({
        series,
        spec,
        params: options.params,
        objective,
        search: options.search,
        ...(options.batch !== undefined ? { batch: options.batch } : {}),
        evaluator,
        window: { from: w.train.from, to: w.train.to, warmupCandles: 0 },
        diagnostics: false,
        onProgress: (done, planned) => options.onProgress?.(k, windows.length, done, planned),
      });
      const best = opt.best;
      if (best === null) throw new ConfigError('walk-forward: a train window had no trial');
      const warmup = options.warmupCandles ?? Math.round((w.train.to - w.train.from) / tf);
      const startEquity = equity;
      const test = runWindow(
        series,
        {
          ...spec,
          config: { ...spec.config, initialCash: startEquity },
          from: w.test.from,
          to: w.test.to,
          warmupCandles: warmup,
        },
        strategyWith(spec.strategy, best.params),
      );
      const n = test.equity.time.length;
      for (let i = 0; i < n; i++) {
        times.push(test.equity.time[i]!);
        values.push(test.equity.equity[i]!);
      }
      for (const t of test.trades) trades.push({ ...t, window: k });
      const last = n > 0 ? test.equity.equity[n - 1]! : startEquity;
      const cost = closeOutCost(test.openPositions, spec.config.fills);
      equity = last - cost;
      const isComparable = comparableOf(best.metrics, objective);
      const oosComparable = comparableOf(test.metrics, objective);
      results.push({
        index: k,
        train: w.train,
        test: w.test,
        trials: opt.search.trials,
        params: best.params,
        inSample: { objective: best.objective, comparable: isComparable, metrics: best.metrics },
        outOfSample: {
          objective: objectiveValue(test.metrics, objective),
          comparable: oosComparable,
          metrics: test.metrics,
        },
        efficiency:
          isComparable !== null && oosComparable !== null && isComparable > 0
            ? oosComparable / isComparable
            : null,
        startEquity,
        endEquity: equity,
        closedOut: test.openPositions.length,
      });
    }
  } finally {
    await evaluator.close().catch(() => {});
  }
  const stitchedTimes = Float64Array.from(times);
  const stitchedEquity = Float64Array.from(values);
  // the close-out cost of a window shows at its last point
  let cursor = 0;
  for (const w of results) {
    while (cursor < stitchedTimes.length && stitchedTimes[cursor]! <= w.test.to) cursor++;
    if (cursor > 0 && w.closedOut > 0) stitchedEquity[cursor - 1] = w.endEquity;
  }
  const metrics = computeMetrics({
    startEquity: spec.config.initialCash,
    times: stitchedTimes,
    equity: stitchedEquity,
    trades,
  });
  const meanIs = mean(results.map((w) => w.inSample.comparable));
  const meanOos = mean(results.map((w) => w.outOfSample.comparable));
  const efficiency = meanIs !== null && meanOos !== null && meanIs > 0 ? meanOos / meanIs : null;
  return {
    strategy: spec.strategy,
    objective,
    comparable: objective === 'profit' ? 'cagr' : objective,
    period: { from: options.from, to: options.to },
    trainMs: options.trainMs,
    testMs: options.testMs,
    stepMs,
    anchored: options.anchored ?? false,
    warmupCandles: options.warmupCandles ?? 'train',
    windows: results,
    stitched: {
      metrics,
      objective: objectiveValue(metrics, objective),
      comparable: comparableOf(metrics, objective),
      equity: { time: stitchedTimes, equity: stitchedEquity },
      trades,
    },
    summary: {
      windows: results.length,
      meanInSample: meanIs,
      meanOutOfSample: meanOos,
      efficiency,
      degradation: efficiency === null ? null : 1 - efficiency,
      positiveOutOfSample: results.filter((w) => (w.outOfSample.comparable ?? 0) > 0).length,
    },
    jobs: evaluator.jobs,
    wallMs: performance.now() - started,
  };
}
