import { describe, expect, it } from 'vitest';
import { binomial, combinations, cscv, leastSquares } from './pbo.js';
import { Random } from './random.js';

describe('combinations', () => {
  it('lists every k-subset once, in lexicographic order', () => {
    expect([...combinations(4, 2)]).toEqual([
      [0, 1],
      [0, 2],
      [0, 3],
      [1, 2],
      [1, 3],
      [2, 3],
    ]);
    expect([...combinations(16, 8)].length).toBe(12_870);
    expect(binomial(16, 8)).toBe(12_870);
    expect(binomial(10, 5)).toBe(252);
  });
});

describe('CSCV probability of backtest overfitting', () => {
  it('matches a hand-computed example (S = 4, mean returns)', () => {
    // rows = periods; A wins big once then loses, B and C alternate.
    const A = [4, -1, -1, -1];
    const B = [0, 1, 0, 1];
    const C = [1, 0, 1, 0];
    const r = cscv([A, B, C], { blocks: 4, metric: 'mean' });
    // splits (IS blocks) and the IS-best's OOS rank among 3 (ω = rank / 4):
    // {0,1}: A best (1.5); OOS {2,3}: A -1, B .5, C .5 → rank 1     → λ = ln(1/3)
    // {0,2}: A best (1.5); OOS {1,3}: A -1, B 1, C 0   → rank 1     → ln(1/3)
    // {0,3}: A best (1.5); OOS {1,2}: A -1, B .5, C .5 → rank 1     → ln(1/3)
    // {1,2}: B, C tie at .5 → B (first); OOS {0,3}: A 1.5, B .5, C .5 → rank 1.5 → ln(.6)
    // {1,3}: B best (1);   OOS {0,2}: A 1.5, B 0, C 1  → rank 1     → ln(1/3)
    // {2,3}: B, C tie → B; OOS {0,1}: A 1.5, B .5, C .5 → rank 1.5 → ln(.6)
    const third = Math.log(1 / 3);
    const six = Math.log(0.375 / 0.625);
    expect(Array.from(r.logits)).toEqual(
      [third, third, third, six, third, six].map((x) => expect.closeTo(x, 14)),
    );
    expect(r.splits).toBe(6);
    expect(r.pbo).toBe(1);
    // OOS of the selected: -1, -1, -1, .5, 0, .5 → three of six below zero
    expect(r.probabilityOfLoss).toBeCloseTo(3 / 6, 14);
    expect(r.meanInSample).toBeCloseTo((1.5 * 3 + 0.5 + 1 + 0.5) / 6, 14);
    expect(r.meanOutOfSample).toBeCloseTo((-3 + 0.5 + 0 + 0.5) / 6, 14);
  });

  it('is 0 when one trial is best in every block', () => {
    const good = [3, 2, 3, 2, 3, 2, 3, 2];
    const r = cscv([good, [1, 0, 1, 0, 1, 0, 1, 0], [0, 1, 0, 1, 0, 1, 0, 1]], { blocks: 4, metric: 'mean' });
    expect(r.pbo).toBe(0);
    // the best's OOS rank is always 3 of 3: ω = 3/4, λ = ln 3
    for (const l of r.logits) expect(l).toBeCloseTo(Math.log(3), 14);
  });

  it('is near one half on pure noise, with Sharpe as the metric', () => {
    const random = new Random(7);
    const trials = Array.from({ length: 50 }, () =>
      Float64Array.from({ length: 800 }, () => random.normal() * 0.01),
    );
    const r = cscv(trials, { blocks: 10 });
    expect(r.splits).toBe(252);
    expect(r.pbo).toBeGreaterThan(0.3);
    expect(r.pbo).toBeLessThan(0.7);
  });

  it('detects selection of noise among a skilled and unskilled mix: skill lowers the PBO', () => {
    const random = new Random(11);
    const noise = () => Float64Array.from({ length: 600 }, () => random.normal() * 0.01);
    const skilled = Float64Array.from({ length: 600 }, () => 0.004 + random.normal() * 0.01);
    const r = cscv([skilled, ...Array.from({ length: 30 }, noise)], { blocks: 8 });
    expect(r.pbo).toBeLessThan(0.1);
  });

  it('keeps every row: uneven blocks differ by one row at most', () => {
    // T = 9, S = 4 → blocks of 3, 2, 2, 2
    const A = [1, 1, 1, 0, 0, 0, 0, 0, 0];
    const B = [0, 0, 0, 1, 1, 1, 1, 1, 1];
    const r = cscv([A, B], { blocks: 4, metric: 'mean' });
    expect(r.observations).toBe(9);
    // split {0,1} (rows 0-4): A mean 3/5 vs B 2/5 → A; OOS rows 5-8: A 0, B 1 → rank 1 → ω 1/3
    expect(r.logits[0]).toBeCloseTo(Math.log(1 / 3 / (2 / 3)), 14);
  });

  it('refuses bad inputs', () => {
    expect(() => cscv([[1, 2, 3, 4]], { blocks: 2 })).toThrow(/two trials/);
    expect(() =>
      cscv(
        [
          [1, 2, 3, 4],
          [1, 2, 3],
        ],
        { blocks: 2 },
      ),
    ).toThrow(/same number/);
    expect(() =>
      cscv(
        [
          [1, 2, 3, 4],
          [1, 2, 3, 4],
        ],
        { blocks: 3 },
      ),
    ).toThrow(/even/);
    expect(() =>
      cscv(
        [
          [1, 2, 3],
          [1, 2, 3],
        ],
        { blocks: 4 },
      ),
    ).toThrow(/too few/);
  });

  it('least squares by hand', () => {
    expect(leastSquares([1, 2, 3], [2, 4, 6])).toEqual({ slope: 2, intercept: 0 });
    expect(leastSquares([1, 2, 3], [1, 1, 4])).toEqual({ slope: 1.5, intercept: -1 });
  });
});
