/**
 * The probabilistic and the deflated Sharpe ratio: Bailey & López de Prado, "The Deflated Sharpe
 * Ratio: Correcting for Selection Bias, Backtest Overfitting and Non-Normality", Journal of
 * Portfolio Management 40(5), 2014. Definitions in docs/research.md.
 *
 * Every Sharpe ratio here is per period (mean / sample stdev of the period returns, NOT
 * annualised): the formulas are in the units of the observations.
 *
 *   PSR(SR*) = Φ( (SR̂ − SR*) √(T − 1) / √(1 − γ3 SR̂ + (γ4 − 1)/4 SR̂²) )
 *   SR0      = √V[SR_n] ((1 − γ) Φ⁻¹(1 − 1/N) + γ Φ⁻¹(1 − 1/(N e)))     γ = Euler–Mascheroni
 *   DSR      = PSR(SR0)
 *
 * SR̂ is the selected strategy's Sharpe over T returns, γ3 their skewness and γ4 their kurtosis
 * (3 for a normal), N the number of independent trials and V[SR_n] the variance of the trials'
 * Sharpe ratios. SR0 is the expected maximum Sharpe of N unskilled trials: DSR is the probability
 * that the selected strategy's true Sharpe is above what the search alone would have produced.
 */
import { moments, normalCdf, normalQuantile } from './normal.js';

export const EULER_MASCHERONI = 0.5772156649015329;

export interface SharpeEstimate {
  /** per-period Sharpe ratio of the observations */
  sharpe: number;
  /** number of return observations T */
  observations: number;
  skewness: number;
  /** not excess: 3 for a normal distribution */
  kurtosis: number;
}

/**
 * The probability that the true Sharpe ratio exceeds `benchmark` (both per period). null when
 * the estimate's variance term is not positive (only for extreme skew/kurtosis with a large SR̂)
 * or T < 2.
 */
export function probabilisticSharpeRatio(estimate: SharpeEstimate, benchmark = 0): number | null {
  const { sharpe, observations: t, skewness, kurtosis } = estimate;
  if (!(t >= 2) || !Number.isFinite(sharpe)) return null;
  const v = 1 - skewness * sharpe + ((kurtosis - 1) / 4) * sharpe * sharpe;
  if (!(v > 0)) return null;
  return normalCdf(((sharpe - benchmark) * Math.sqrt(t - 1)) / Math.sqrt(v));
}

/** SR0: the expected maximum of N per-period Sharpe ratios with the given variance and mean 0. */
export function expectedMaxSharpe(trials: number, variance: number): number {
  if (!(trials > 1) || !(variance > 0)) return 0;
  const g = EULER_MASCHERONI;
  return (
    Math.sqrt(variance) *
    ((1 - g) * normalQuantile(1 - 1 / trials) + g * normalQuantile(1 - 1 / (trials * Math.E)))
  );
}

export interface DeflatedSharpeStats extends SharpeEstimate {
  /** N: the number of trials the selected strategy was the best of */
  trials: number;
  /** V[SR_n]: the variance of the trials' per-period Sharpe ratios */
  trialSharpeVariance: number;
}

export interface DeflatedSharpe extends DeflatedSharpeStats {
  /** SR0, per period */
  expectedMaxSharpe: number;
  /** PSR(0): the probability that the true Sharpe is positive, ignoring the search */
  probabilisticSharpe: number | null;
  /** DSR = PSR(SR0) */
  deflatedSharpe: number | null;
}

export function deflatedSharpeFromStats(stats: DeflatedSharpeStats): DeflatedSharpe {
  const sr0 = expectedMaxSharpe(stats.trials, stats.trialSharpeVariance);
  return {
    ...stats,
    expectedMaxSharpe: sr0,
    probabilisticSharpe: probabilisticSharpeRatio(stats, 0),
    deflatedSharpe: probabilisticSharpeRatio(stats, sr0),
  };
}

/** Per-period Sharpe ratio: mean / sample stdev; 0 when there is no variation. */
export function periodSharpe(returns: ArrayLike<number>): number {
  const m = moments(returns);
  return m.stdev > 0 ? m.mean / m.stdev : 0;
}

/** Sample variance (n − 1) of a list of numbers; 0 with fewer than two. */
export function sampleVariance(values: readonly number[]): number {
  const n = values.length;
  if (n < 2) return 0;
  let mean = 0;
  for (const v of values) mean += v;
  mean /= n;
  let ss = 0;
  for (const v of values) ss += (v - mean) ** 2;
  return ss / (n - 1);
}

/**
 * DSR of the selected strategy's returns, given every trial's per-period Sharpe (the selected one
 * included). `trials` defaults to the number of Sharpe ratios given.
 */
export function deflatedSharpeRatio(
  selectedReturns: ArrayLike<number>,
  trialSharpes: readonly number[],
  trials = trialSharpes.length,
): DeflatedSharpe {
  const m = moments(selectedReturns);
  return deflatedSharpeFromStats({
    sharpe: m.stdev > 0 ? m.mean / m.stdev : 0,
    observations: m.n,
    skewness: m.skewness,
    kurtosis: m.kurtosis,
    trials,
    trialSharpeVariance: sampleVariance(trialSharpes),
  });
}

/**
 * The average pairwise correlation ρ̄ of the trials' return series (equal lengths; series without
 * variation are left out), in O(N·T): with z_i the standardised series,
 * Σ_{i,j} corr(i, j) = ‖Σ_i z_i‖² / (T − 1), and the N diagonal terms are 1.
 * Returns null with fewer than two varying series.
 */
export function averageCorrelation(series: readonly ArrayLike<number>[]): number | null {
  const usable = series.filter((s) => s.length > 1 && moments(s).stdev > 0);
  const n = usable.length;
  if (n < 2) return null;
  const t = usable[0]!.length;
  const total = new Float64Array(t);
  for (const s of usable) {
    if (s.length !== t) throw new RangeError('averageCorrelation: series of different lengths');
    const m = moments(s);
    for (let k = 0; k < t; k++) total[k]! += (s[k]! - m.mean) / m.stdev;
  }
  let sq = 0;
  for (let k = 0; k < t; k++) sq += total[k]! * total[k]!;
  return (sq / (t - 1) - n) / (n * (n - 1));
}

/**
 * A heuristic number of independent trials: N_eff = ρ̄ + (1 − ρ̄) N (ρ̄ clipped to [0, 1]): N for
 * uncorrelated trials, 1 for identical ones. Grid neighbours are strongly correlated, so the
 * plain N overstates the search's selection bias; N_eff understates it when correlations are
 * uneven. Reported next to the DSR with the plain N, which stays the conservative headline.
 */
export function effectiveTrials(trials: number, averageCorr: number | null): number {
  if (averageCorr === null) return trials;
  const rho = Math.min(1, Math.max(0, averageCorr));
  return rho + (1 - rho) * trials;
}
