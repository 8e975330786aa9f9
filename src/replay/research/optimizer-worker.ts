/**
 * The optimiser's worker thread: evaluates trials on the candle series it was started with
 * (shared memory: see worker-pool.ts) and returns each trial's metrics and daily returns.
 */
import { workerData } from 'node:worker_threads';
import type { CandleSeries } from '../backtest/candle-series.js';
import {
  evaluateTrial,
  type Objective,
  type RunSpec,
  type TrialOutcome,
  type TrialTask,
} from './evaluate.js';
import { strategyWith } from './param-space.js';
import { serveTasks } from './worker-pool.js';

export interface OptimizerWorkerData {
  series: CandleSeries;
  spec: RunSpec;
  objective: Objective;
}

/** A task may carry its own window (walk-forward runs several windows on one pool). */
export interface OptimizerTask extends TrialTask {
  window?: Pick<RunSpec, 'from' | 'to' | 'warmupCandles'>;
}

const data = workerData as OptimizerWorkerData;

serveTasks<OptimizerTask, TrialOutcome>((task) => {
  const spec = task.window ? { ...data.spec, ...task.window } : data.spec;
  const outcome = evaluateTrial(data.series, spec, data.objective, task, (params) =>
    strategyWith(spec.strategy, params),
  );
  return { result: outcome, transfer: [outcome.dailyReturns.buffer as ArrayBuffer] };
});
