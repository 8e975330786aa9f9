/**
 * Monte Carlo of trade order: how much of a backtest's drawdown (and, with the bootstrap, of its
 * final equity) was luck of the order in which its trades came. Definitions in docs/research.md.
 *
 * Each closed trade becomes a return on equity, r = pnl / equity at its entry (the equity curve's
 * last point at or before the entry time; the start equity before the first point). A path
 * compounds the trades one after the other from the start equity, E_k = E_{k−1} (1 + r_k), and its
 * maximum drawdown is measured on E_0..E_n (closed-trade equity: no marks between trades, and
 * overlapping trades are treated as consecutive).
 *  - shuffle: each run is a random permutation of the trades (final equity is the same on every
 *    path; the drawdown distribution is what changes);
 *  - bootstrap: each run draws n trades with replacement (final equity varies too).
 * Percentiles interpolate linearly between order statistics (Hyndman & Fan type 7, numpy's
 * default): p-th percentile of sorted x_0..x_{n−1} is at position (n − 1) p / 100.
 */
import { Random } from './random.js';

export type MonteCarloMethod = 'shuffle' | 'bootstrap';
export const MONTE_CARLO_METHODS: readonly MonteCarloMethod[] = ['shuffle', 'bootstrap'];
export const DEFAULT_PERCENTILES = [1, 5, 25, 50, 75, 95, 99] as const;

export interface Distribution {
  mean: number;
  min: number;
  max: number;
  /** keyed p1, p5, p25, p50, p75, p95, p99 (or the percentiles asked for) */
  percentiles: Record<string, number>;
}

export interface MonteCarloOptions {
  runs: number;
  seed: number;
  method?: MonteCarloMethod;
  /** default 1: final equities are then growth multiples */
  startEquity?: number;
  percentiles?: readonly number[];
}

export interface PathStats {
  finalEquity: number;
  maxDrawdown: number;
}

export interface MonteCarloResult {
  method: MonteCarloMethod;
  runs: number;
  seed: number;
  trades: number;
  startEquity: number;
  /** the trades in their actual order */
  original: PathStats;
  finalEquity: Distribution;
  maxDrawdown: Distribution;
  /** the share of runs ending below the start equity */
  probabilityOfLoss: number;
  /** the share of runs with a deeper drawdown than the actual order's */
  probabilityWorseDrawdown: number;
}

/** Percentile p (0..100) of ascending `sorted`, linear interpolation (type 7). */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  const n = sorted.length;
  if (n === 0) return Number.NaN;
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile: p must be in [0, 100], got ${p}`);
  const pos = ((n - 1) * p) / 100;
  const lo = Math.floor(pos);
  const hi = Math.min(n - 1, lo + 1);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

export function distribution(
  values: Float64Array,
  percentiles: readonly number[] = DEFAULT_PERCENTILES,
): Distribution {
  const sorted = Float64Array.from(values).sort();
  let sum = 0;
  for (const v of sorted) sum += v;
  return {
    mean: sorted.length > 0 ? sum / sorted.length : Number.NaN,
    min: sorted[0] ?? Number.NaN,
    max: sorted[sorted.length - 1] ?? Number.NaN,
    percentiles: Object.fromEntries(percentiles.map((p) => [`p${p}`, percentile(sorted, p)])),
  };
}

/** Final equity and max drawdown of compounding `returns` in the order `order` (default: as given). */
export function pathStats(returns: ArrayLike<number>, startEquity = 1, order?: ArrayLike<number>): PathStats {
  let equity = startEquity;
  let peak = startEquity;
  let worst = 0;
  const n = order ? order.length : returns.length;
  for (let k = 0; k < n; k++) {
    const r = returns[order ? order[k]! : k]!;
    equity *= 1 + r;
    if (equity > peak) peak = equity;
    else if (peak > 0) {
      const dd = (peak - equity) / peak;
      if (dd > worst) worst = dd;
    }
  }
  return { finalEquity: equity, maxDrawdown: worst };
}

export function tradeOrderMonteCarlo(
  returns: readonly number[],
  options: MonteCarloOptions,
): MonteCarloResult {
  const { runs, seed } = options;
  const method = options.method ?? 'shuffle';
  const startEquity = options.startEquity ?? 1;
  if (!(Number.isInteger(runs) && runs >= 1))
    throw new RangeError(`monte carlo: runs must be >= 1, got ${runs}`);
  if (!MONTE_CARLO_METHODS.includes(method)) throw new RangeError(`monte carlo: unknown method ${method}`);
  for (const r of returns)
    if (!(Number.isFinite(r) && r >= -1)) throw new RangeError(`monte carlo: trade return ${r} is not >= -1`);
  const random = new Random(seed);
  const n = returns.length;
  const original = pathStats(returns, startEquity);
  const finals = new Float64Array(runs);
  const drawdowns = new Float64Array(runs);
  const order = new Uint32Array(n);
  let losses = 0;
  let worse = 0;
  for (let run = 0; run < runs; run++) {
    if (method === 'shuffle') {
      for (let i = 0; i < n; i++) order[i] = i;
      for (let i = n - 1; i > 0; i--) {
        const j = random.int(i + 1);
        const t = order[i]!;
        order[i] = order[j]!;
        order[j] = t;
      }
    } else {
      for (let i = 0; i < n; i++) order[i] = random.int(n);
    }
    const p = pathStats(returns, startEquity, order);
    finals[run] = p.finalEquity;
    drawdowns[run] = p.maxDrawdown;
    if (p.finalEquity < startEquity) losses++;
    if (p.maxDrawdown > original.maxDrawdown) worse++;
  }
  const pcts = options.percentiles ?? DEFAULT_PERCENTILES;
  return {
    method,
    runs,
    seed,
    trades: n,
    startEquity,
    original,
    finalEquity: distribution(finals, pcts),
    maxDrawdown: distribution(drawdowns, pcts),
    probabilityOfLoss: losses / runs,
    probabilityWorseDrawdown: worse / runs,
  };
}

export interface TradeForMonteCarlo {
  entryTime: number;
  pnl: number;
}

/**
 * Each trade's pnl as a fraction of the equity at its entry: the equity curve's last point at or
 * before the entry time, the start equity before the first point.
 */
export function tradeReturnsOnEquity(
  trades: readonly TradeForMonteCarlo[],
  times: ArrayLike<number>,
  equity: ArrayLike<number>,
  startEquity: number,
): number[] {
  return trades.map((t) => {
    let lo = 0;
    let hi = times.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (times[mid]! <= t.entryTime) lo = mid + 1;
      else hi = mid;
    }
    const base = lo > 0 ? equity[lo - 1]! : startEquity;
    return base > 0 ? t.pnl / base : 0;
  });
}
