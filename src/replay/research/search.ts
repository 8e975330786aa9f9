/**
 * Search strategies over a discrete parameter space (param-space.ts): grid, random and Bayesian
 * (a multivariate Tree-structured Parzen Estimator). Definitions in docs/research.md.
 *
 * All three are ask/tell: propose(n) returns up to n new trials ([] when done), observe(trial,
 * value) reports a trial's objective (higher is better; null = undefined, ranked worst). The
 * optimiser evaluates each proposed batch in parallel and reports the batch's results in
 * proposal order, so a search's sequence of trials depends only on its seed and options, never on
 * the number of workers or on which finished first.
 *
 * - grid: every feasible point, in grid order (the last parameter varies fastest).
 * - random: `trials` distinct feasible points drawn uniformly (seeded; without replacement).
 * - bayes (TPE, Bergstra et al. 2011, multivariate as in Falkner et al. 2018 / Optuna's
 *   multivariate TPE): the first `startup` trials are random; then the observed trials are split
 *   into the best n_good = clamp(⌈0.1 n⌉, 1, 25) and the rest, each group becomes a Parzen density
 *   over the grid — an equal-weight mixture of the uniform prior and, per observed point, a
 *   product over parameters of discrete Gaussians on the value index with bandwidth
 *   σ_d = max(1, (K_d − 1)/5 · m^(−1/(D+4))) (K_d values, m points in the group, D parameters),
 *   truncated to the grid — l(x) for the good group, g(x) for the rest. `candidates` points are
 *   drawn from l (infeasible and already-proposed points redrawn) and the one maximising
 *   l(x)/g(x) (the expected-improvement criterion of TPE) is proposed. Within a batch, trials
 *   already proposed but not yet observed are excluded, so a batch never repeats a point.
 */
import { ConfigError } from '../../domain/errors.js';
import { Random } from '../../domain/performance/random.js';
import {
  coordsOf,
  gridSize,
  indexOf,
  type ParamPoint,
  type ParamSpec,
  type ParamValues,
  pointAt,
} from './param-space.js';

export type SearchKind = 'grid' | 'random' | 'bayes';
export const SEARCH_KINDS: readonly SearchKind[] = ['grid', 'random', 'bayes'];

/** Grids up to this many points are enumerated (feasibility checked once per point). */
export const ENUMERATE_LIMIT = 2_000_000;

export interface SearchSpace {
  readonly specs: readonly ParamSpec[];
  readonly feasible: (params: ParamValues) => boolean;
}

export interface Trial extends ParamPoint {
  /** 0, 1, 2, ... in proposal order */
  readonly index: number;
}

export interface Search {
  readonly kind: SearchKind;
  /** trials it will propose in all (it may stop earlier when the space runs out) */
  readonly planned: number;
  /** grid points, before constraints */
  readonly gridPoints: number;
  /** feasible grid points (null when the grid is too large to enumerate) */
  readonly feasiblePoints: number | null;
  propose(max: number): Trial[];
  observe(trial: Trial, value: number | null): void;
}

export interface SearchOptions {
  kind: SearchKind;
  /** random and bayes: how many trials (default 100) */
  trials?: number;
  /** random and bayes (default 1) */
  seed?: number;
  /** bayes: random trials before the model is used (default 10, at least 2) */
  startup?: number;
  /** bayes: draws from l(x) per proposal (default 24) */
  candidates?: number;
}

/** The grid indices of the feasible points, ascending; null for grids above ENUMERATE_LIMIT. */
export function enumerateFeasible(space: SearchSpace): Uint32Array | null {
  const total = gridSize(space.specs);
  if (total > ENUMERATE_LIMIT) return null;
  const out = new Uint32Array(total);
  let n = 0;
  for (let i = 0; i < total; i++) {
    if (space.feasible(pointAt(space.specs, coordsOf(space.specs, i)).params)) out[n++] = i;
  }
  return out.slice(0, n);
}

export function createSearch(space: SearchSpace, options: SearchOptions): Search {
  if (space.specs.length === 0)
    throw new ConfigError('optimise: no --param to search', 'for example --param fast=5..30:1');
  const feasible = enumerateFeasible(space);
  if (feasible !== null && feasible.length === 0) {
    throw new ConfigError(
      'optimise: no combination of the --param values is valid for the strategy',
      'check the constraints, e.g. ema-cross needs fast < slow',
    );
  }
  switch (options.kind) {
    case 'grid':
      if (feasible === null) {
        throw new ConfigError(
          `optimise: the grid has ${gridSize(space.specs).toLocaleString('en-US')} points, more than a grid search enumerates (${ENUMERATE_LIMIT.toLocaleString('en-US')})`,
          'use --search random or --search bayes with --trials N',
        );
      }
      return new GridSearch(space, feasible);
    case 'random':
      return new RandomSearch(space, feasible, options);
    case 'bayes':
      return new TpeSearch(space, feasible, options);
    default:
      throw new ConfigError(
        `--search: "${String(options.kind)}" is not a search`,
        `use ${SEARCH_KINDS.join(', ')}`,
      );
  }
}

function positiveInt(value: number, name: string): number {
  if (!(Number.isInteger(value) && value >= 1))
    throw new ConfigError(`${name} must be a positive whole number, got ${value}`);
  return value;
}

class GridSearch implements Search {
  readonly kind = 'grid' as const;
  readonly planned: number;
  readonly gridPoints: number;
  readonly feasiblePoints: number;
  private next = 0;

  constructor(
    private readonly space: SearchSpace,
    private readonly feasible: Uint32Array,
  ) {
    this.planned = feasible.length;
    this.gridPoints = gridSize(space.specs);
    this.feasiblePoints = feasible.length;
  }

  propose(max: number): Trial[] {
    const out: Trial[] = [];
    while (out.length < max && this.next < this.feasible.length) {
      const index = this.next++;
      out.push({ index, ...pointAt(this.space.specs, coordsOf(this.space.specs, this.feasible[index]!)) });
    }
    return out;
  }

  observe(): void {}
}

/** Uniform draws of feasible grid points not taken yet, seeded. */
class PointSampler {
  readonly taken = new Set<number>();
  private readonly remaining: Uint32Array | null;
  private remainingCount: number;

  constructor(
    private readonly space: SearchSpace,
    feasible: Uint32Array | null,
    private readonly random: Random,
  ) {
    this.remaining = feasible === null ? null : feasible.slice();
    this.remainingCount = feasible === null ? Number.POSITIVE_INFINITY : feasible.length;
  }

  /** A feasible point not taken yet (marked taken), or null when there is none (or none found). */
  draw(): number | null {
    const r = this.remaining;
    if (r !== null) {
      while (this.remainingCount > 0) {
        const i = this.random.int(this.remainingCount);
        const index = r[i]!;
        r[i] = r[this.remainingCount - 1]!;
        this.remainingCount--;
        if (!this.taken.has(index)) {
          this.taken.add(index);
          return index;
        }
      }
      return null;
    }
    // a grid too large to enumerate: rejection sampling
    const total = gridSize(this.space.specs);
    for (let attempt = 0; attempt < 10_000; attempt++) {
      const index = Math.floor(this.random.next() * total);
      if (this.taken.has(index)) continue;
      if (!this.space.feasible(pointAt(this.space.specs, coordsOf(this.space.specs, index)).params)) continue;
      this.taken.add(index);
      return index;
    }
    return null;
  }
}

class RandomSearch implements Search {
  readonly kind = 'random' as const;
  planned: number;
  readonly gridPoints: number;
  readonly feasiblePoints: number | null;
  private readonly sampler: PointSampler;
  private proposed = 0;

  constructor(
    private readonly space: SearchSpace,
    feasible: Uint32Array | null,
    options: SearchOptions,
  ) {
    const trials = positiveInt(options.trials ?? 100, '--trials');
    this.sampler = new PointSampler(space, feasible, new Random(options.seed ?? 1));
    this.gridPoints = gridSize(space.specs);
    this.feasiblePoints = feasible?.length ?? null;
    this.planned = Math.min(trials, feasible?.length ?? trials);
  }

  propose(max: number): Trial[] {
    const out: Trial[] = [];
    while (out.length < max && this.proposed < this.planned) {
      const index = this.sampler.draw();
      if (index === null) {
        this.planned = this.proposed;
        break;
      }
      out.push({ index: this.proposed++, ...pointAt(this.space.specs, coordsOf(this.space.specs, index)) });
    }
    return out;
  }

  observe(): void {}
}

interface Observation {
  index: number;
  coords: readonly number[];
  value: number;
}

class TpeSearch implements Search {
  readonly kind = 'bayes' as const;
  planned: number;
  readonly gridPoints: number;
  readonly feasiblePoints: number | null;
  private readonly random: Random;
  private readonly sampler: PointSampler;
  private readonly startup: number;
  private readonly candidates: number;
  private readonly sizes: number[];
  private readonly observations: Observation[] = [];
  private proposed = 0;

  constructor(
    private readonly space: SearchSpace,
    feasible: Uint32Array | null,
    options: SearchOptions,
  ) {
    const trials = positiveInt(options.trials ?? 100, '--trials');
    this.random = new Random(options.seed ?? 1);
    this.sampler = new PointSampler(space, feasible, this.random);
    this.startup = Math.max(2, positiveInt(options.startup ?? 10, '--startup'));
    this.candidates = positiveInt(options.candidates ?? 24, 'candidates');
    this.sizes = space.specs.map((s) => s.values.length);
    this.gridPoints = gridSize(space.specs);
    this.feasiblePoints = feasible?.length ?? null;
    this.planned = Math.min(trials, feasible?.length ?? trials);
  }

  propose(max: number): Trial[] {
    const out: Trial[] = [];
    while (out.length < max && this.proposed < this.planned) {
      const index =
        this.proposed < this.startup || this.observations.length < 2
          ? this.sampler.draw()
          : this.modelPoint();
      if (index === null) {
        this.planned = this.proposed;
        break;
      }
      out.push({ index: this.proposed++, ...pointAt(this.space.specs, coordsOf(this.space.specs, index)) });
    }
    return out;
  }

  observe(trial: Trial, value: number | null): void {
    this.observations.push({
      index: trial.index,
      coords: trial.coords,
      value: value === null || Number.isNaN(value) ? Number.NEGATIVE_INFINITY : value,
    });
  }

  /** The TPE proposal (see the module comment); falls back to a random point. */
  private modelPoint(): number | null {
    const sorted = [...this.observations].sort((a, b) => b.value - a.value || a.index - b.index);
    const n = sorted.length;
    const nGood = Math.min(25, Math.max(1, Math.ceil(0.1 * n)), n - 1);
    const good = new Parzen(sorted.slice(0, nGood), this.sizes);
    const bad = new Parzen(sorted.slice(nGood), this.sizes);
    let best: number | null = null;
    let bestScore = Number.NEGATIVE_INFINITY;
    let drawn = 0;
    for (let attempt = 0; attempt < this.candidates * 20 && drawn < this.candidates; attempt++) {
      const coords = good.sample(this.random);
      const index = indexOf(this.space.specs, coords);
      if (this.sampler.taken.has(index)) continue;
      if (!this.space.feasible(pointAt(this.space.specs, coords).params)) continue;
      drawn++;
      const score = good.logDensity(coords) - bad.logDensity(coords);
      if (score > bestScore) {
        bestScore = score;
        best = index;
      }
    }
    if (best === null) return this.sampler.draw();
    this.sampler.taken.add(best);
    return best;
  }
}

/**
 * A Parzen density over the grid: an equal-weight mixture of the uniform prior and, per point,
 * a product of discrete Gaussians on the index (truncated to the grid and normalised).
 */
class Parzen {
  private readonly sigma: number[];
  private readonly logPrior: number;
  /** per point, per dimension: log of the normaliser Σ_k exp(−(k − c)²/(2σ²)) */
  private readonly logZ: number[][];

  constructor(
    private readonly points: readonly Observation[],
    private readonly sizes: readonly number[],
  ) {
    const dims = sizes.length;
    const m = Math.max(1, points.length);
    this.sigma = sizes.map((k) => Math.max(1, ((k - 1) / 5) * m ** (-1 / (dims + 4))));
    this.logPrior = -sizes.reduce((s, k) => s + Math.log(k), 0);
    this.logZ = points.map((p) => sizes.map((k, d) => Math.log(this.normaliser(p.coords[d]!, d, k))));
  }

  private normaliser(c: number, d: number, k: number): number {
    const s = this.sigma[d]!;
    const lo = Math.max(0, Math.floor(c - 8 * s));
    const hi = Math.min(k - 1, Math.ceil(c + 8 * s));
    let z = 0;
    for (let x = lo; x <= hi; x++) z += Math.exp(-((x - c) ** 2) / (2 * s * s));
    return z;
  }

  logDensity(coords: readonly number[]): number {
    const terms = [this.logPrior];
    for (let j = 0; j < this.points.length; j++) {
      const p = this.points[j]!;
      let t = 0;
      for (let d = 0; d < coords.length; d++) {
        const s = this.sigma[d]!;
        t += -((coords[d]! - p.coords[d]!) ** 2) / (2 * s * s) - this.logZ[j]![d]!;
      }
      terms.push(t);
    }
    let max = Number.NEGATIVE_INFINITY;
    for (const t of terms) if (t > max) max = t;
    let sum = 0;
    for (const t of terms) sum += Math.exp(t - max);
    return max + Math.log(sum) - Math.log(terms.length);
  }

  sample(random: Random): number[] {
    const component = random.int(this.points.length + 1);
    if (component === 0) return this.sizes.map((k) => random.int(k));
    const p = this.points[component - 1]!;
    return this.sizes.map((k, d) => {
      const c = p.coords[d]!;
      const s = this.sigma[d]!;
      const lo = Math.max(0, Math.floor(c - 8 * s));
      const hi = Math.min(k - 1, Math.ceil(c + 8 * s));
      let u = random.next() * Math.exp(this.logZ[component - 1]![d]!);
      for (let x = lo; x <= hi; x++) {
        u -= Math.exp(-((x - c) ** 2) / (2 * s * s));
        if (u <= 0) return x;
      }
      return hi;
    });
  }
}
