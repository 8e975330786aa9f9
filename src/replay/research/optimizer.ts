/**
 * Parameter optimisation: a search (search.ts) proposes parameter sets, an evaluator runs each
 * through `simulate` (in this thread for --jobs 1, else on a pool of worker threads sharing one
 * copy of the candles), the results are ranked by the objective, and the overfitting diagnostics
 * are computed over every trial: the deflated Sharpe ratio of the best trial and the probability
 * of backtest overfitting by CSCV (docs/research.md).
 *
 * Determinism: trials are proposed in batches (grid and random: all at once; bayes: `batch` at a
 * time) and each batch's results are reported to the search in proposal order, so the trials, the
 * ranking and the diagnostics are the same for any number of workers.
 *
 * Memory: the candles exist once (a SharedArrayBuffer when workers are used); each trial keeps
 * its metrics and one return per day (8 bytes × days × trials: 500 trials over 5 years ≈ 7 MB);
 * each worker's heap is capped (worker-pool.ts).
 */
import { availableParallelism } from 'node:os';
import { ConfigError } from '../../domain/errors.js';
import {
  averageCorrelation,
  type DeflatedSharpe,
  deflatedSharpeFromStats,
  deflatedSharpeRatio,
  effectiveTrials,
  periodSharpe,
} from '../../domain/performance/deflated-sharpe.js';
import type { Metrics } from '../../domain/performance/metrics.js';
import { percentile } from '../../domain/performance/monte-carlo.js';
import { type CscvMetric, cscv } from '../../domain/performance/pbo.js';
import { allocateCandleSeries, type CandleSeries } from '../backtest/candle-series.js';
import {
  compareObjective,
  evaluateTrial,
  type Objective,
  type RunSpec,
  type TrialOutcome,
} from './evaluate.js';
import type { OptimizerTask, OptimizerWorkerData } from './optimizer-worker.js';
import { feasibleFor, type ParamSpec, type ParamValues, strategyWith } from './param-space.js';
import { createSearch, type SearchKind, type SearchOptions } from './search.js';
import {
  type MemorySample,
  memorySample,
  type WorkerMemory,
  WorkerPool,
  workerScript,
} from './worker-pool.js';

/** Runs trials: in this thread or on worker threads. */
export interface TrialEvaluator {
  readonly jobs: number;
  evaluate(task: OptimizerTask): Promise<TrialOutcome>;
  /** per worker (empty in-process) */
  memory(): WorkerMemory[];
  close(): Promise<void>;
}

export interface EvaluatorOptions {
  jobs: number;
  /** per-worker heap cap, MiB (default 512) */
  maxHeapMb?: number;
}

/** True when every column lives in a SharedArrayBuffer (workers can share it). */
export function isShared(series: CandleSeries): boolean {
  return series.columns.every((c) => c.openTime.buffer instanceof SharedArrayBuffer);
}

/** The series in one SharedArrayBuffer (a copy, without ids), or the series itself if it already is. */
export function toSharedSeries(series: CandleSeries): CandleSeries {
  if (isShared(series) && series.columns.every((c) => c.ids === undefined)) return series;
  const shared = allocateCandleSeries(
    series.exchange,
    series.timeframe,
    series.symbols,
    series.columns.map((c) => c.openTime.length),
    { shared: true },
  );
  series.columns.forEach((c, i) => {
    const to = shared.columns[i]!;
    to.openTime.set(c.openTime);
    to.open.set(c.open);
    to.high.set(c.high);
    to.low.set(c.low);
    to.close.set(c.close);
    to.volume.set(c.volume);
  });
  return shared;
}

export function defaultJobs(): number {
  return Math.max(1, Math.min(availableParallelism(), 8));
}

export function createEvaluator(
  series: CandleSeries,
  spec: RunSpec,
  objective: Objective,
  options: EvaluatorOptions,
): TrialEvaluator {
  if (!(Number.isInteger(options.jobs) && options.jobs >= 1))
    throw new ConfigError(`--jobs must be a positive whole number, got ${options.jobs}`);
  if (options.jobs === 1) {
    return {
      jobs: 1,
      async evaluate(task) {
        // let timers and progress run between trials
        await new Promise((resolve) => setImmediate(resolve));
        const s = task.window ? { ...spec, ...task.window } : spec;
        return evaluateTrial(series, s, objective, task, (params) => strategyWith(s.strategy, params));
      },
      memory: () => [],
      close: async () => {},
    };
  }
  const data: OptimizerWorkerData = { series: toSharedSeries(series), spec, objective };
  const pool = new WorkerPool<OptimizerTask, TrialOutcome>(
    workerScript(import.meta.url, 'optimizer-worker'),
    {
      size: options.jobs,
      workerData: data,
      ...(options.maxHeapMb !== undefined ? { maxHeapMb: options.maxHeapMb } : {}),
    },
  );
  return {
    jobs: options.jobs,
    evaluate: (task) => pool.run(task),
    memory: () => pool.memory(),
    close: () => pool.close(),
  };
}

export interface OptimizeOptions {
  series: CandleSeries;
  spec: RunSpec;
  params: readonly ParamSpec[];
  objective: Objective;
  search: SearchOptions;
  /** default 1 (in this thread) */
  jobs?: number;
  /** bayes: trials proposed (and evaluated in parallel) per model update (default 4) */
  batch?: number;
  /** CSCV blocks S (default 16; fewer when there are few days) */
  pboBlocks?: number;
  /** compute the DSR and PBO (default true) */
  diagnostics?: boolean;
  maxHeapMb?: number;
  /** an evaluator to reuse (walk-forward keeps one pool for every window); not closed here */
  evaluator?: TrialEvaluator;
  /** the window to run trials on when reusing an evaluator started for another window */
  window?: Pick<RunSpec, 'from' | 'to' | 'warmupCandles'>;
  onProgress?: (done: number, planned: number) => void;
}

export interface RankedTrial {
  rank: number;
  /** proposal order */
  trial: number;
  params: ParamValues;
  objective: number | null;
  metrics: Metrics;
}

export interface PboReport {
  pbo: number;
  blocks: number;
  splits: number;
  metric: CscvMetric;
  observations: number;
  probabilityOfLoss: number;
  degradation: { slope: number; intercept: number };
  meanInSample: number;
  meanOutOfSample: number;
  /** percentiles of the logits λ over the splits */
  logits: { p5: number; p25: number; p50: number; p75: number; p95: number };
}

export interface DsrReport extends DeflatedSharpe {
  /** the heuristic effective number of trials from the average correlation of trial returns */
  effectiveTrials: number;
  averageCorrelation: number | null;
  /** DSR with N = effectiveTrials */
  deflatedSharpeEffective: number | null;
}

export interface OptimizeResult {
  strategy: string;
  objective: Objective;
  search: {
    kind: SearchKind;
    seed: number | null;
    trials: number;
    gridPoints: number;
    feasiblePoints: number | null;
    batch: number | null;
  };
  params: { name: string; values: number[] }[];
  ranked: RankedTrial[];
  best: RankedTrial | null;
  diagnostics: { deflatedSharpe: DsrReport | null; pbo: PboReport | null; notes: string[] };
  performance: {
    jobs: number;
    wallMs: number;
    trialsPerSecond: number;
    candlesPerSecond: number;
    workers: WorkerMemory[];
    main: MemorySample & { rss: number };
  };
}

export async function optimize(options: OptimizeOptions): Promise<OptimizeResult> {
  const { spec, objective } = options;
  const window = options.window;
  const feasible = feasibleFor(spec.strategy, options.params);
  const search = createSearch({ specs: options.params, feasible }, options.search);
  const batch = search.kind === 'bayes' ? Math.max(1, options.batch ?? 4) : Number.POSITIVE_INFINITY;
  const started = performance.now();
  const evaluator =
    options.evaluator ??
    createEvaluator(options.series, spec, objective, {
      // no more workers than trials in a batch
      jobs: Math.max(1, Math.min(options.jobs ?? 1, search.planned, batch)),
      ...(options.maxHeapMb !== undefined ? { maxHeapMb: options.maxHeapMb } : {}),
    });
  const outcomes: TrialOutcome[] = [];
  let candles = 0;
  try {
    for (;;) {
      const trials = search.propose(batch);
      if (trials.length === 0) break;
      const results = await Promise.all(
        trials.map((t) =>
          evaluator
            .evaluate({ index: t.index, params: t.params, ...(window ? { window } : {}) })
            .then((r) => {
              candles += r.dataPoints;
              options.onProgress?.(outcomes.length + 1, search.planned);
              outcomes.push(r);
              return r;
            }),
        ),
      );
      for (const [i, r] of results.entries()) search.observe(trials[i]!, r.objective);
    }
  } finally {
    if (!options.evaluator) await evaluator.close().catch(() => {});
  }
  outcomes.sort((a, b) => a.index - b.index);
  const wallMs = performance.now() - started;
  const order = [...outcomes].sort((a, b) => compareObjective(a.objective, b.objective) || a.index - b.index);
  const ranked: RankedTrial[] = order.map((o, i) => ({
    rank: i + 1,
    trial: o.index,
    params: { ...o.params },
    objective: o.objective,
    metrics: o.metrics,
  }));
  const diagnostics =
    options.diagnostics === false
      ? { deflatedSharpe: null, pbo: null, notes: ['diagnostics not computed'] }
      : overfittingDiagnostics(outcomes, order[0] ?? null, objective, options.pboBlocks);
  const mem = process.memoryUsage();
  return {
    strategy: spec.strategy,
    objective,
    search: {
      kind: search.kind,
      seed: search.kind === 'grid' ? null : (options.search.seed ?? 1),
      trials: outcomes.length,
      gridPoints: search.gridPoints,
      feasiblePoints: search.feasiblePoints,
      batch: search.kind === 'bayes' ? batch : null,
    },
    params: options.params.map((p) => ({ name: p.name, values: [...p.values] })),
    ranked,
    best: ranked[0] ?? null,
    diagnostics,
    performance: {
      jobs: evaluator.jobs,
      wallMs,
      trialsPerSecond: outcomes.length / (wallMs / 1000),
      candlesPerSecond: candles / (wallMs / 1000),
      workers: evaluator.memory(),
      main: { ...memorySample(), rss: mem.rss },
    },
  };
}

/** DSR of the best trial and CSCV's PBO over every trial (see docs/research.md). */
export function overfittingDiagnostics(
  outcomes: readonly TrialOutcome[],
  best: TrialOutcome | null,
  objective: Objective,
  pboBlocks = 16,
): OptimizeResult['diagnostics'] {
  const notes: string[] = [];
  if (best === null || outcomes.length === 0)
    return { deflatedSharpe: null, pbo: null, notes: ['no trials'] };
  const returns = outcomes.map((o) => o.dailyReturns);
  const days = returns[0]!.length;
  const aligned = returns.every((r) => r.length === days);
  const sharpes = returns.map((r) => periodSharpe(r));
  let deflated: DsrReport | null = null;
  if (best.dailyReturns.length >= 2) {
    const dsr = deflatedSharpeRatio(best.dailyReturns, sharpes);
    const rho = aligned ? averageCorrelation(returns) : null;
    const nEff = effectiveTrials(outcomes.length, rho);
    deflated = {
      ...dsr,
      effectiveTrials: nEff,
      averageCorrelation: rho,
      deflatedSharpeEffective: deflatedSharpeFromStats({ ...dsr, trials: nEff }).deflatedSharpe,
    };
  } else notes.push('deflated Sharpe ratio: fewer than two daily returns');
  let pbo: PboReport | null = null;
  if (outcomes.length < 2) notes.push('PBO: needs at least two trials');
  else if (!aligned) notes.push('PBO: the trials cover different days');
  else {
    // S even, at most the requested blocks, and at least 2 days per block
    let blocks = Math.min(pboBlocks, Math.floor(days / 2));
    if (blocks % 2 === 1) blocks--;
    if (blocks < 2) notes.push(`PBO: ${days} days are too few for CSCV`);
    else {
      if (blocks < pboBlocks) notes.push(`PBO: ${blocks} blocks instead of ${pboBlocks} (only ${days} days)`);
      const r = cscv(returns, { blocks, metric: objective === 'profit' ? 'mean' : 'sharpe' });
      const sorted = Float64Array.from(r.logits).sort();
      pbo = {
        pbo: r.pbo,
        blocks: r.blocks,
        splits: r.splits,
        metric: r.metric,
        observations: r.observations,
        probabilityOfLoss: r.probabilityOfLoss,
        degradation: r.degradation,
        meanInSample: r.meanInSample,
        meanOutOfSample: r.meanOutOfSample,
        logits: {
          p5: percentile(sorted, 5),
          p25: percentile(sorted, 25),
          p50: percentile(sorted, 50),
          p75: percentile(sorted, 75),
          p95: percentile(sorted, 95),
        },
      };
    }
  }
  return { deflatedSharpe: deflated, pbo, notes };
}
