import { describe, expect, it } from 'vitest';
import {
  averageCorrelation,
  deflatedSharpeFromStats,
  deflatedSharpeRatio,
  effectiveTrials,
  expectedMaxSharpe,
  probabilisticSharpeRatio,
  sampleVariance,
} from './deflated-sharpe.js';
import { moments, normalCdf, normalQuantile } from './normal.js';

describe('the standard normal', () => {
  it('matches reference values of Φ (scipy.stats.norm.cdf): 1e-14 absolute, 1e-7 relative in the tail', () => {
    expect(normalCdf(0)).toBe(0.5);
    expect(normalCdf(1.96)).toBeCloseTo(0.9750021048517795, 14);
    expect(normalCdf(-1)).toBeCloseTo(0.15865525393145707, 14);
    expect(normalCdf(3)).toBeCloseTo(0.9986501019683699, 14);
    expect(normalCdf(-8) / 6.22096057427174e-16).toBeCloseTo(1, 7);
    expect(normalCdf(-20) / 2.7536241186061556e-89).toBeCloseTo(1, 7);
    expect(normalCdf(-40)).toBe(0);
    expect(normalCdf(40)).toBe(1);
  });

  it('inverts it: Φ⁻¹ matches scipy.stats.norm.ppf', () => {
    expect(normalQuantile(0.5)).toBeCloseTo(0, 15);
    expect(normalQuantile(0.975)).toBeCloseTo(1.959963984540054, 13);
    expect(normalQuantile(0.99)).toBeCloseTo(2.3263478740408408, 13);
    expect(normalQuantile(0.001)).toBeCloseTo(-3.090232306167813, 12);
    expect(normalQuantile(1e-10)).toBeCloseTo(-6.361340902404056, 9);
    expect(normalQuantile(0)).toBe(Number.NEGATIVE_INFINITY);
    expect(normalQuantile(1)).toBe(Number.POSITIVE_INFINITY);
    expect(normalQuantile(1.5)).toBeNaN();
  });
});

describe('moments', () => {
  it('computes population skewness and (non-excess) kurtosis by hand', () => {
    // x = 1, 2, 3, 4, 10: mean 4, deviations -3 -2 -1 0 6
    // m2 = 50/5 = 10, m3 = 180/5 = 36, m4 = 1394/5 = 278.8
    const m = moments([1, 2, 3, 4, 10]);
    expect(m.mean).toBe(4);
    expect(m.stdev).toBeCloseTo(Math.sqrt(50 / 4), 14);
    expect(m.skewness).toBeCloseTo(36 / 10 ** 1.5, 14);
    expect(m.kurtosis).toBeCloseTo(2.788, 14);
  });

  it('gives a flat series skewness 0 and kurtosis 3', () => {
    expect(moments([2, 2, 2])).toMatchObject({ skewness: 0, kurtosis: 3, stdev: 0 });
  });
});

describe('probabilistic Sharpe ratio', () => {
  it('is Φ((SR − SR*) √(T − 1) / √(1 − γ3 SR + (γ4 − 1)/4 SR²)), by hand', () => {
    // SR 0.1, T 101, normal returns: z = 0.1 × 10 / √1.005
    const psr = probabilisticSharpeRatio({ sharpe: 0.1, observations: 101, skewness: 0, kurtosis: 3 });
    expect(psr).toBeCloseTo(0.8407413278013518, 12);
    // at the benchmark itself the probability is one half
    expect(
      probabilisticSharpeRatio({ sharpe: 0.1, observations: 101, skewness: -1, kurtosis: 6 }, 0.1),
    ).toBeCloseTo(0.5, 15);
  });

  it('penalises negative skew and fat tails', () => {
    const normal = probabilisticSharpeRatio({ sharpe: 0.1, observations: 250, skewness: 0, kurtosis: 3 })!;
    const skewed = probabilisticSharpeRatio({ sharpe: 0.1, observations: 250, skewness: -2, kurtosis: 3 })!;
    const fat = probabilisticSharpeRatio({ sharpe: 0.1, observations: 250, skewness: 0, kurtosis: 20 })!;
    expect(skewed).toBeLessThan(normal);
    expect(fat).toBeLessThan(normal);
  });

  it('is null when undefined', () => {
    expect(probabilisticSharpeRatio({ sharpe: 0.1, observations: 1, skewness: 0, kurtosis: 3 })).toBeNull();
    expect(probabilisticSharpeRatio({ sharpe: 2, observations: 100, skewness: 5, kurtosis: 3 })).toBeNull();
  });
});

describe('deflated Sharpe ratio', () => {
  it("reproduces Bailey & López de Prado (2014)'s numerical example: DSR ≈ 0.9004", () => {
    // 100 trials, annualised variance of their Sharpe ratios 1/2; the best has an annualised SR of
    // 2.5 over 1,250 daily returns with skewness −3 and kurtosis 10 (250 days a year).
    const dsr = deflatedSharpeFromStats({
      sharpe: 2.5 / Math.sqrt(250),
      observations: 1250,
      skewness: -3,
      kurtosis: 10,
      trials: 100,
      trialSharpeVariance: 0.5 / 250,
    });
    // the paper: SR0 ≈ 0.1132 per day; DSR ≈ 0.9004 (scipy: 0.11317200186513214, 0.9003968344493903)
    expect(dsr.expectedMaxSharpe).toBeCloseTo(0.11317200186513214, 12);
    expect(dsr.deflatedSharpe).toBeCloseTo(0.9003968344493903, 10);
    expect(dsr.probabilisticSharpe!).toBeGreaterThan(dsr.deflatedSharpe!);
  });

  it('expected maximum Sharpe: 0 for one trial, growing with N and with the variance', () => {
    expect(expectedMaxSharpe(1, 0.01)).toBe(0);
    expect(expectedMaxSharpe(10, 0)).toBe(0);
    expect(expectedMaxSharpe(1000, 0.01)).toBeGreaterThan(expectedMaxSharpe(10, 0.01));
    expect(expectedMaxSharpe(10, 0.04)).toBeCloseTo(2 * expectedMaxSharpe(10, 0.01), 14);
  });

  it('from returns: uses their moments and the sample variance of the trial Sharpe ratios', () => {
    const returns = [0.01, -0.02, 0.03, 0.005, -0.01, 0.02, 0.015, -0.005];
    const m = moments(returns);
    const trialSharpes = [0.1, 0.3, m.mean / m.stdev, -0.2];
    const dsr = deflatedSharpeRatio(returns, trialSharpes);
    expect(dsr.trials).toBe(4);
    expect(dsr.observations).toBe(8);
    expect(dsr.sharpe).toBeCloseTo(m.mean / m.stdev, 15);
    expect(dsr.trialSharpeVariance).toBeCloseTo(sampleVariance(trialSharpes), 15);
    expect(dsr.deflatedSharpe).toBeCloseTo(
      probabilisticSharpeRatio(dsr, expectedMaxSharpe(4, sampleVariance(trialSharpes)))!,
      15,
    );
  });

  it('average correlation and effective trials', () => {
    const a = [1, 2, 3, 4, 5];
    const b = [2, 4, 6, 8, 10];
    const c = [5, 4, 3, 2, 1];
    expect(averageCorrelation([a, b])).toBeCloseTo(1, 14);
    // pairs: (a,b) 1, (a,c) -1, (b,c) -1 → mean -1/3
    expect(averageCorrelation([a, b, c])).toBeCloseTo(-1 / 3, 14);
    expect(averageCorrelation([a, [1, 1, 1, 1, 1]])).toBeNull();
    expect(effectiveTrials(100, 1)).toBe(1);
    expect(effectiveTrials(100, 0)).toBe(100);
    expect(effectiveTrials(100, 0.5)).toBe(50.5);
    expect(effectiveTrials(100, -0.2)).toBe(100);
  });
});
