import { describe, expect, it } from 'vitest';
import {
  coordsOf,
  feasibleFor,
  gridSize,
  indexOf,
  parseParamSpec,
  parseParamSpecs,
} from '../../../src/replay/research/param-space.js';
import {
  createSearch,
  type Search,
  type SearchSpace,
  type Trial,
} from '../../../src/replay/research/search.js';

describe('--param', () => {
  it('parses ranges, steps, lists and fixed values', () => {
    expect(parseParamSpec('fast=5..8:1').values).toEqual([5, 6, 7, 8]);
    expect(parseParamSpec('fast=5..8').values).toEqual([5, 6, 7, 8]);
    expect(parseParamSpec('slow=20..100:20').values).toEqual([20, 40, 60, 80, 100]);
    expect(parseParamSpec('slow=20..99:20').values).toEqual([20, 40, 60, 80]);
    expect(parseParamSpec('x=0.1..0.5:0.1').values).toEqual([0.1, 0.2, 0.3, 0.4, 0.5]);
    expect(parseParamSpec('fast=13,5,8,5').values).toEqual([5, 8, 13]);
    expect(parseParamSpec('fast=12').values).toEqual([12]);
  });

  it('refuses malformed specs with a hint', () => {
    expect(() => parseParamSpec('fast')).toThrow(/not name=values/);
    expect(() => parseParamSpec('fast=a..3')).toThrow(/not a number/);
    expect(() => parseParamSpec('fast=9..3')).toThrow(/empty/);
    expect(() => parseParamSpec('fast=1..3:0')).toThrow(/step must be positive/);
    expect(() => parseParamSpecs(['fast=1', 'fast=2'])).toThrow(/twice/);
  });

  it('numbers grid points with the last parameter fastest', () => {
    const specs = parseParamSpecs(['a=1..3', 'b=1..4']);
    expect(gridSize(specs)).toBe(12);
    expect(coordsOf(specs, 0)).toEqual([0, 0]);
    expect(coordsOf(specs, 5)).toEqual([1, 1]);
    for (let i = 0; i < 12; i++) expect(indexOf(specs, coordsOf(specs, i))).toBe(i);
  });

  it("takes constraints from the strategy's own validation", () => {
    const specs = parseParamSpecs(['fast=5..30', 'slow=20..100:5']);
    const ok = feasibleFor('ema-cross', specs);
    expect(ok({ fast: 12, slow: 26 })).toBe(true);
    expect(ok({ fast: 26, slow: 26 })).toBe(false);
    expect(ok({ fast: 30, slow: 20 })).toBe(false);
    const rsi = feasibleFor('rsi-reversion', parseParamSpecs(['lower=10..50:10', 'upper=40..90:10']));
    expect(rsi({ lower: 40, upper: 40 })).toBe(false);
    expect(rsi({ lower: 30, upper: 70 })).toBe(true);
    expect(() => feasibleFor('ema-cross', parseParamSpecs(['period=3']))).toThrow(/no parameter "period"/);
  });
});

/** fast < slow on a 26 × 17 grid (the example): 5..30 × 20..100:5 */
const specs = parseParamSpecs(['fast=5..30:1', 'slow=20..100:5']);
const space: SearchSpace = { specs, feasible: (p) => p.fast! < p.slow! };

/** A smooth objective with its maximum at fast 9, slow 60. */
const objective = (t: Trial) => -(((t.params.fast! - 9) / 5) ** 2) - ((t.params.slow! - 60) / 20) ** 2;

function drive(search: Search, batch: number): Trial[] {
  const all: Trial[] = [];
  for (;;) {
    const trials = search.propose(batch);
    if (trials.length === 0) return all;
    for (const t of trials) search.observe(t, objective(t));
    all.push(...trials);
  }
}

const key = (t: Trial) => `${t.params.fast}/${t.params.slow}`;

describe('search', () => {
  it('grid: every feasible point once, in grid order', () => {
    const s = createSearch(space, { kind: 'grid' });
    // slow 20: fast 5..19 (15), slow 25: 5..24 (20), slow >= 35: all 26 (14 values) ... count them
    let feasible = 0;
    for (const f of specs[0]!.values) for (const sl of specs[1]!.values) if (f < sl) feasible++;
    expect(s.gridPoints).toBe(26 * 17);
    expect(s.feasiblePoints).toBe(feasible);
    const trials = drive(s, 50);
    expect(trials).toHaveLength(feasible);
    expect(trials[0]!.params).toEqual({ fast: 5, slow: 20 });
    expect(trials[1]!.params).toEqual({ fast: 5, slow: 25 });
    expect(trials.map((t) => t.index)).toEqual(trials.map((_, i) => i));
    expect(new Set(trials.map(key)).size).toBe(feasible);
  });

  it('random: distinct feasible points; same seed → same trials, whatever the batch size', () => {
    const a = drive(createSearch(space, { kind: 'random', trials: 40, seed: 5 }), 1).map(key);
    const b = drive(createSearch(space, { kind: 'random', trials: 40, seed: 5 }), 7).map(key);
    const c = drive(createSearch(space, { kind: 'random', trials: 40, seed: 6 }), 1).map(key);
    expect(a).toHaveLength(40);
    expect(new Set(a).size).toBe(40);
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    // more trials than points: every feasible point once
    const small = { specs: parseParamSpecs(['fast=2..4', 'slow=3..5']), feasible: space.feasible };
    expect(drive(createSearch(small, { kind: 'random', trials: 100, seed: 1 }), 4)).toHaveLength(6);
  });

  it('bayes (TPE): same seed and batch → same trials; no repeats; beats random search on a smooth objective', () => {
    const run = (seed: number) => drive(createSearch(space, { kind: 'bayes', trials: 40, seed }), 4);
    const a = run(3);
    expect(a.map(key)).toEqual(run(3).map(key));
    expect(a.map(key)).not.toEqual(run(4).map(key));
    expect(new Set(a.map(key)).size).toBe(40);
    expect(a.every((t) => t.params.fast! < t.params.slow!)).toBe(true);
    // over 10 seeds, TPE's best of 40 is better on average than random search's best of 40
    let tpe = 0;
    let random = 0;
    for (let seed = 1; seed <= 10; seed++) {
      tpe += Math.max(...run(seed).map(objective));
      random += Math.max(
        ...drive(createSearch(space, { kind: 'random', trials: 40, seed }), 4).map(objective),
      );
    }
    expect(tpe).toBeGreaterThan(random);
    // and it concentrates near the optimum: most of its last 20 trials are within reach of it
    const last = a.slice(20);
    const near = last.filter((t) => Math.abs(t.params.fast! - 9) <= 6 && Math.abs(t.params.slow! - 60) <= 25);
    expect(near.length).toBeGreaterThanOrEqual(12);
  });

  it('bayes stops when the space runs out', () => {
    const small = { specs: parseParamSpecs(['fast=2..4', 'slow=3..5']), feasible: space.feasible };
    const trials = drive(createSearch(small, { kind: 'bayes', trials: 50, seed: 2, startup: 2 }), 2);
    expect(trials).toHaveLength(6);
    expect(new Set(trials.map(key)).size).toBe(6);
  });

  it('grid refuses a space too large to enumerate; random samples it', () => {
    const huge = { specs: parseParamSpecs(['a=1..2000', 'b=1..2000']), feasible: () => true };
    expect(() => createSearch(huge, { kind: 'grid' })).toThrow(/more than a grid search enumerates/);
    const r = drive(createSearch(huge, { kind: 'random', trials: 20, seed: 1 }), 5);
    expect(new Set(r.map((t) => `${t.params.a}/${t.params.b}`)).size).toBe(20);
  });
});
