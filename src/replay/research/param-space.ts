/**
 * Parameter spaces for optimisation: every parameter takes a finite, ordered list of values, so
 * a point of the space is a vector of indices (its coordinates) and the grid is their product.
 *
 * `--param` syntax (one flag per parameter):
 *   fast=5..30:1    5, 6, ..., 30 (min..max:step, both ends included when on the step)
 *   fast=5..30      step 1
 *   slow=20..100:5  20, 25, ..., 100
 *   lower=20.5..35:2.5  decimals are fine (values are rounded to 12 significant decimals)
 *   fast=5,8,13     a list (sorted ascending, duplicates removed)
 *   fast=12         fixed
 *
 * Constraints between parameters (ema-cross's fast < slow, rsi-reversion's lower < upper) are
 * the strategy's own validation: a point the strategy refuses to be built with is infeasible and
 * never evaluated (see feasibleFor).
 */
import { ConfigError } from '../../domain/errors.js';
import { significant } from '../../domain/numbers.js';
import {
  builtInStrategy,
  StrategyConfigError,
  type StrategyDefinition,
} from '../../domain/strategies/index.js';

export interface ParamSpec {
  readonly name: string;
  /** ascending, distinct */
  readonly values: readonly number[];
}

export type ParamValues = Record<string, number>;

/** A point of the space: its coordinates (index into each spec's values) and the values. */
export interface ParamPoint {
  readonly coords: readonly number[];
  readonly params: ParamValues;
}

export const MAX_VALUES_PER_PARAM = 100_000;

function round(x: number): number {
  return significant(x, 12);
}

function number(text: string, flag: string, what: string): number {
  const n = Number(text.trim());
  if (text.trim() === '' || !Number.isFinite(n))
    throw new ConfigError(`${flag}: ${what} "${text}" is not a number`, 'for example --param fast=5..30:1');
  return n;
}

/** Parses one `--param name=spec`. */
export function parseParamSpec(text: string, flag = '--param'): ParamSpec {
  const eq = text.indexOf('=');
  const name = eq > 0 ? text.slice(0, eq).trim() : '';
  if (!/^[A-Za-z][A-Za-z0-9_-]*$/.test(name)) {
    throw new ConfigError(
      `${flag}: "${text}" is not name=values`,
      'for example --param fast=5..30:1, --param slow=20,50,100 or --param fast=12',
    );
  }
  const spec = text.slice(eq + 1).trim();
  let values: number[];
  const range = /^(.+?)\.\.(.+?)(?::(.+))?$/.exec(spec);
  if (range) {
    const min = number(range[1]!, flag, `${name} minimum`);
    const max = number(range[2]!, flag, `${name} maximum`);
    const step = range[3] === undefined ? 1 : number(range[3], flag, `${name} step`);
    if (!(step > 0)) throw new ConfigError(`${flag}: ${name} step must be positive, got ${step}`);
    if (max < min) throw new ConfigError(`${flag}: ${name} range ${min}..${max} is empty (max < min)`);
    const count = Math.floor((max - min) / step + 1e-9) + 1;
    if (count > MAX_VALUES_PER_PARAM)
      throw new ConfigError(`${flag}: ${name} has ${count} values; at most ${MAX_VALUES_PER_PARAM}`);
    values = Array.from({ length: count }, (_, i) => round(min + i * step));
  } else {
    values = spec.split(',').map((v) => number(v, flag, `${name} value`));
  }
  values = [...new Set(values)].sort((a, b) => a - b);
  if (values.length === 0) throw new ConfigError(`${flag}: ${name} has no values`);
  return { name, values };
}

/** Parses every `--param`; a name given twice is an error. */
export function parseParamSpecs(texts: readonly string[], flag = '--param'): ParamSpec[] {
  const specs = texts.map((t) => parseParamSpec(t, flag));
  const seen = new Set<string>();
  for (const s of specs) {
    if (seen.has(s.name)) throw new ConfigError(`${flag}: ${s.name} is given twice`);
    seen.add(s.name);
  }
  return specs;
}

/** The number of grid points (before constraints). */
export function gridSize(specs: readonly ParamSpec[]): number {
  return specs.reduce((n, s) => n * s.values.length, 1);
}

export function pointAt(specs: readonly ParamSpec[], coords: readonly number[]): ParamPoint {
  const params: ParamValues = {};
  specs.forEach((s, d) => {
    params[s.name] = s.values[coords[d]!]!;
  });
  return { coords, params };
}

/** The coordinates of grid point number `index` (the last parameter varies fastest). */
export function coordsOf(specs: readonly ParamSpec[], index: number): number[] {
  const coords = new Array<number>(specs.length);
  let rest = index;
  for (let d = specs.length - 1; d >= 0; d--) {
    const k = specs[d]!.values.length;
    coords[d] = rest % k;
    rest = Math.floor(rest / k);
  }
  return coords;
}

export function indexOf(specs: readonly ParamSpec[], coords: readonly number[]): number {
  let index = 0;
  for (let d = 0; d < specs.length; d++) index = index * specs[d]!.values.length + coords[d]!;
  return index;
}

/** A description of the parameters for reports: `fast=5..30 (26 values)`. */
export function describeSpec(s: ParamSpec): string {
  const v = s.values;
  return v.length === 1 ? `${s.name}=${v[0]}` : `${s.name}=${v[0]}..${v[v.length - 1]} (${v.length} values)`;
}

/**
 * Checks the parameter names against a built-in strategy and returns its feasibility test: a
 * point is feasible when the strategy accepts its values (with the strategy's defaults for the
 * parameters not searched).
 */
export function feasibleFor(strategy: string, specs: readonly ParamSpec[]): (params: ParamValues) => boolean {
  const defaults = builtInStrategy(strategy).params;
  for (const s of specs) {
    if (!Object.hasOwn(defaults, s.name)) {
      throw new ConfigError(
        `--param: ${strategy} has no parameter "${s.name}"`,
        `it takes ${Object.keys(defaults).join(', ')}`,
      );
    }
  }
  return (params) => {
    try {
      builtInStrategy(strategy, params);
      return true;
    } catch (error) {
      if (error instanceof StrategyConfigError) return false;
      throw error;
    }
  };
}

/** The built-in strategy with these parameter values (defaults for the rest). */
export function strategyWith(strategy: string, params: ParamValues): StrategyDefinition {
  return builtInStrategy(strategy, params);
}

/** `fast=12 slow=26` */
export function formatParams(params: ParamValues): string {
  return Object.entries(params)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
}
