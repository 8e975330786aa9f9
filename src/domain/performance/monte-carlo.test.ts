import { describe, expect, it } from 'vitest';
import {
  distribution,
  pathStats,
  percentile,
  tradeOrderMonteCarlo,
  tradeReturnsOnEquity,
} from './monte-carlo.js';
import { Random } from './random.js';

describe('percentile (type 7)', () => {
  it('interpolates between order statistics, by hand', () => {
    const x = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    expect(percentile(x, 0)).toBe(1);
    expect(percentile(x, 100)).toBe(10);
    expect(percentile(x, 50)).toBe(5.5); // position 4.5
    expect(percentile(x, 25)).toBe(3.25); // position 2.25
    expect(percentile(x, 95)).toBeCloseTo(9.55, 14); // position 8.55
    expect(percentile([7], 99)).toBe(7);
    expect(percentile([], 50)).toBeNaN();
  });

  it('summarises a distribution', () => {
    const d = distribution(Float64Array.from([3, 1, 2, 4]), [50]);
    expect(d).toEqual({ mean: 2.5, min: 1, max: 4, percentiles: { p50: 2.5 } });
  });
});

describe('trade paths', () => {
  it('compounds returns and measures the drawdown on closed-trade equity, by hand', () => {
    // 100 → 110 → 88 → 96.8 → 116.16: peak 110, trough 88: drawdown 20%
    const p = pathStats([0.1, -0.2, 0.1, 0.2], 100);
    expect(p.finalEquity).toBeCloseTo(116.16, 10);
    expect(p.maxDrawdown).toBeCloseTo(0.2, 14);
    // the order [-0.2, 0.1, 0.1, 0.2]: 100 → 80 (peak 100: 20%) → ... same final
    expect(pathStats([0.1, -0.2, 0.1, 0.2], 100, [1, 0, 2, 3]).maxDrawdown).toBeCloseTo(0.2, 14);
    // two losses in a row: 100 → 80 → 64: 36%
    expect(pathStats([-0.2, -0.2, 0.5], 100).maxDrawdown).toBeCloseTo(0.36, 14);
  });

  it('turns trades into returns on the equity at entry', () => {
    const times = [10, 20, 30];
    const equity = [1000, 1100, 900];
    const r = tradeReturnsOnEquity(
      [
        { entryTime: 5, pnl: 50 }, // before the first point: start equity 1000
        { entryTime: 20, pnl: 110 }, // at a point: 1100
        { entryTime: 29, pnl: -55 }, // between: the last point before, 1100
      ],
      times,
      equity,
      1000,
    );
    expect(r).toEqual([0.05, 0.1, -0.05]);
  });
});

describe('trade-order Monte Carlo', () => {
  const returns = [0.1, -0.2, 0.05, 0.3, -0.1, -0.05, 0.15, 0.02, -0.08, 0.12];

  it('shuffle: every run ends at the same equity; drawdowns are those of permutations', () => {
    const r = tradeOrderMonteCarlo(returns, { runs: 500, seed: 1, startEquity: 1000 });
    const final = pathStats(returns, 1000).finalEquity;
    expect(r.finalEquity.min).toBeCloseTo(final, 8);
    expect(r.finalEquity.max).toBeCloseTo(final, 8);
    expect(r.maxDrawdown.min).toBeGreaterThanOrEqual(0);
    // the worst order: all losses in a row → 1 − 0.8 × 0.9 × 0.95 × 0.92 = 0.37072
    expect(r.maxDrawdown.max).toBeLessThanOrEqual(0.37072 + 1e-12);
    // the best order can hide the losses only partly: the losses cannot all be avoided
    expect(r.maxDrawdown.min).toBeGreaterThan(0);
    expect(r.trades).toBe(10);
  });

  it('explores every permutation of three trades', () => {
    const three = [0.5, -0.5, -0.5];
    const r = tradeOrderMonteCarlo(three, { runs: 2000, seed: 3 });
    // orders: (+,-,-): 1.5 → .75 → .375, dd 75%; (-,+,-): .5 → .75 → .375, dd 62.5%;
    // (-,-,+): .5 → .25 → .375, dd 75%. Two of three orders have 75%.
    expect(r.maxDrawdown.min).toBeCloseTo(0.625, 14);
    expect(r.maxDrawdown.max).toBeCloseTo(0.75, 14);
    expect(r.maxDrawdown.mean).toBeGreaterThan(0.7);
    expect(r.maxDrawdown.mean).toBeLessThan(0.72);
  });

  it('bootstrap: final equity varies; the same seed gives the same result', () => {
    const a = tradeOrderMonteCarlo(returns, { runs: 300, seed: 42, method: 'bootstrap' });
    const b = tradeOrderMonteCarlo(returns, { runs: 300, seed: 42, method: 'bootstrap' });
    const c = tradeOrderMonteCarlo(returns, { runs: 300, seed: 43, method: 'bootstrap' });
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    expect(a.finalEquity.max).toBeGreaterThan(a.finalEquity.min);
    expect(a.finalEquity.percentiles.p5!).toBeLessThan(a.finalEquity.percentiles.p95!);
    expect(a.probabilityOfLoss).toBeGreaterThan(0);
    expect(a.probabilityOfLoss).toBeLessThan(1);
  });

  it('refuses impossible returns and run counts', () => {
    expect(() => tradeOrderMonteCarlo([-1.5], { runs: 10, seed: 1 })).toThrow(/>= -1/);
    expect(() => tradeOrderMonteCarlo([0.1], { runs: 0, seed: 1 })).toThrow(/runs/);
  });
});

describe('Random', () => {
  it('is deterministic per seed and roughly uniform', () => {
    const a = new Random(5);
    const b = new Random(5);
    const xs = Array.from({ length: 1000 }, () => a.next());
    expect(xs).toEqual(Array.from({ length: 1000 }, () => b.next()));
    const m = xs.reduce((s, x) => s + x, 0) / xs.length;
    expect(m).toBeGreaterThan(0.45);
    expect(m).toBeLessThan(0.55);
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...xs)).toBeLessThan(1);
    expect(new Random(6).next()).not.toBe(xs[0]);
  });

  it('int is within bounds and hits every value', () => {
    const r = new Random(9);
    const seen = new Set<number>();
    for (let i = 0; i < 500; i++) {
      const v = r.int(7);
      expect(v).toBeGreaterThanOrEqual(0);
      expect(v).toBeLessThan(7);
      seen.add(v);
    }
    expect(seen.size).toBe(7);
  });
});
