/**
 * The probability of backtest overfitting (PBO) by combinatorially symmetric cross-validation
 * (CSCV): Bailey, Borwein, López de Prado & Zhu, "The Probability of Backtest Overfitting",
 * Journal of Computational Finance 20(4), 2017. Definitions in docs/research.md.
 *
 * M is a T × N matrix: the returns of N trials (parameter sets) over the same T periods.
 *  1. Split the T rows into S contiguous blocks, S even (sizes differ by at most one row when S
 *     does not divide T: the first T mod S blocks take one extra row; no row is dropped).
 *  2. For each of the C(S, S/2) ways to pick S/2 blocks: the picked blocks are the in-sample set
 *     J, the others the out-of-sample set J̄ (each split is used once; its mirror is another split).
 *  3. n* = the trial with the best performance on J (the first one on a tie).
 *  4. ω = rank of n*'s performance on J̄ among the N trials / (N + 1), ranks 1..N ascending
 *     (ties take their average rank); the logit λ = ln(ω / (1 − ω)).
 *  5. PBO = the share of splits with λ ≤ 0: the in-sample best did no better than the median
 *     out of sample.
 * Performance is the per-period Sharpe ratio (mean / sample stdev, 0 without variation) or the
 * mean return, computed from per-block sums, so a split costs O(N·S) whatever T is.
 */

export type CscvMetric = 'sharpe' | 'mean';

export interface CscvOptions {
  /** the number of blocks S: even, 2..24; default 16 (12,870 splits) */
  blocks?: number;
  metric?: CscvMetric;
}

export interface CscvResult {
  blocks: number;
  metric: CscvMetric;
  trials: number;
  observations: number;
  splits: number;
  /** the probability of backtest overfitting: share of splits with logit ≤ 0 */
  pbo: number;
  /** λ of every split, in split order */
  logits: Float64Array;
  /** the share of splits where the in-sample best lost money out of sample (OOS performance < 0) */
  probabilityOfLoss: number;
  /** least squares OOS = intercept + slope × IS over the splits' selected trials (performance degradation) */
  degradation: { slope: number; intercept: number };
  /** mean in-sample and out-of-sample performance of the selected trial over the splits */
  meanInSample: number;
  meanOutOfSample: number;
}

export const MAX_CSCV_BLOCKS = 24;

/** All k-subsets of 0..n-1 in lexicographic order. */
export function* combinations(n: number, k: number): Generator<number[]> {
  const pick = Array.from({ length: k }, (_, i) => i);
  if (k > n) return;
  for (;;) {
    yield pick.slice();
    let i = k - 1;
    while (i >= 0 && pick[i] === n - k + i) i--;
    if (i < 0) return;
    pick[i]!++;
    for (let j = i + 1; j < k; j++) pick[j] = pick[j - 1]! + 1;
  }
}

export function binomial(n: number, k: number): number {
  let r = 1;
  for (let i = 1; i <= k; i++) r = (r * (n - k + i)) / i;
  return Math.round(r);
}

function performance(metric: CscvMetric, sum: number, sumSq: number, n: number): number {
  if (n <= 0) return 0;
  const mean = sum / n;
  if (metric === 'mean') return mean;
  if (n < 2) return 0;
  const variance = (sumSq - n * mean * mean) / (n - 1);
  // cancellation can leave a tiny negative or noise-level variance for a constant series
  if (!(variance > 1e-300) || variance <= 1e-12 * mean * mean) return 0;
  return mean / Math.sqrt(variance);
}

/** Rank (1..N, ascending, ties averaged) of values[index] among values. */
function averageRank(values: Float64Array, index: number): number {
  const x = values[index]!;
  let below = 0;
  let ties = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v < x) below++;
    else if (v === x && i !== index) ties++;
  }
  return below + 1 + ties / 2;
}

/** CSCV over N trials' return series (all of length T). */
export function cscv(trials: readonly ArrayLike<number>[], options: CscvOptions = {}): CscvResult {
  const s = options.blocks ?? 16;
  const metric = options.metric ?? 'sharpe';
  const n = trials.length;
  if (n < 2) throw new RangeError('cscv: needs at least two trials');
  const t = trials[0]!.length;
  for (const series of trials)
    if (series.length !== t) throw new RangeError('cscv: every trial needs the same number of returns');
  if (!(Number.isInteger(s) && s >= 2 && s % 2 === 0 && s <= MAX_CSCV_BLOCKS))
    throw new RangeError(`cscv: blocks must be an even integer from 2 to ${MAX_CSCV_BLOCKS}, got ${s}`);
  if (t < s) throw new RangeError(`cscv: ${t} observations are too few for ${s} blocks`);

  // per-block sums: index b * n + i
  const sum = new Float64Array(s * n);
  const sumSq = new Float64Array(s * n);
  const size = new Float64Array(s);
  const base = Math.floor(t / s);
  const extra = t % s;
  let row = 0;
  for (let b = 0; b < s; b++) {
    const rows = base + (b < extra ? 1 : 0);
    size[b] = rows;
    for (let i = 0; i < n; i++) {
      const series = trials[i]!;
      let a = 0;
      let q = 0;
      for (let r = row; r < row + rows; r++) {
        const x = series[r]!;
        a += x;
        q += x * x;
      }
      sum[b * n + i] = a;
      sumSq[b * n + i] = q;
    }
    row += rows;
  }
  const totalSum = new Float64Array(n);
  const totalSq = new Float64Array(n);
  for (let b = 0; b < s; b++)
    for (let i = 0; i < n; i++) {
      totalSum[i]! += sum[b * n + i]!;
      totalSq[i]! += sumSq[b * n + i]!;
    }

  const splits = binomial(s, s / 2);
  const logits = new Float64Array(splits);
  const isSum = new Float64Array(n);
  const isSq = new Float64Array(n);
  const oos = new Float64Array(n);
  const selectedIs = new Float64Array(splits);
  const selectedOos = new Float64Array(splits);
  let overfit = 0;
  let losses = 0;
  let c = 0;
  for (const picked of combinations(s, s / 2)) {
    isSum.fill(0);
    isSq.fill(0);
    let isRows = 0;
    for (const b of picked) {
      isRows += size[b]!;
      const o = b * n;
      for (let i = 0; i < n; i++) {
        isSum[i]! += sum[o + i]!;
        isSq[i]! += sumSq[o + i]!;
      }
    }
    const oosRows = t - isRows;
    let best = 0;
    let bestValue = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < n; i++) {
      const v = performance(metric, isSum[i]!, isSq[i]!, isRows);
      if (v > bestValue) {
        bestValue = v;
        best = i;
      }
      oos[i] = performance(metric, totalSum[i]! - isSum[i]!, totalSq[i]! - isSq[i]!, oosRows);
    }
    const omega = averageRank(oos, best) / (n + 1);
    const lambda = Math.log(omega / (1 - omega));
    logits[c] = lambda;
    selectedIs[c] = bestValue;
    selectedOos[c] = oos[best]!;
    if (lambda <= 0) overfit++;
    if (oos[best]! < 0) losses++;
    c++;
  }
  return {
    blocks: s,
    metric,
    trials: n,
    observations: t,
    splits,
    pbo: overfit / splits,
    logits,
    probabilityOfLoss: losses / splits,
    degradation: leastSquares(selectedIs, selectedOos),
    meanInSample: average(selectedIs),
    meanOutOfSample: average(selectedOos),
  };
}

function average(x: Float64Array): number {
  let a = 0;
  for (const v of x) a += v;
  return x.length > 0 ? a / x.length : 0;
}

/** y = intercept + slope x by ordinary least squares; slope 0 when x does not vary. */
export function leastSquares(
  x: ArrayLike<number>,
  y: ArrayLike<number>,
): { slope: number; intercept: number } {
  const n = x.length;
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += x[i]!;
    my += y[i]!;
  }
  mx /= n;
  my /= n;
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < n; i++) {
    sxy += (x[i]! - mx) * (y[i]! - my);
    sxx += (x[i]! - mx) ** 2;
  }
  const slope = sxx > 0 ? sxy / sxx : 0;
  return { slope, intercept: my - slope * mx };
}
