/**
 * Index-by-index comparison of two series with the usual mixed tolerance:
 * |actual - expected| <= relative * |expected| + absolute, and NaN only where the other is NaN
 * (so a warm-up one bar too short or too long is a mismatch, not a skipped value).
 */
export interface Tolerance {
  readonly relative: number;
  readonly absolute: number;
}

/** The brief's bar: 1e-9 relative, 1e-9 absolute near zero (for price-sized values). */
export const TIGHT: Tolerance = { relative: 1e-9, absolute: 1e-9 };

/** For prices scaled by `factor`, "near zero" scales with them. */
export function tightAtScale(factor: number): Tolerance {
  return { relative: 1e-9, absolute: 1e-9 * factor };
}

/** null when the series agree, else a description of the first disagreement. */
export function firstMismatch(
  actual: readonly number[],
  expected: readonly number[],
  tolerance: Tolerance,
): string | null {
  if (actual.length !== expected.length) return `length ${actual.length}, expected ${expected.length}`;
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    if (Number.isNaN(a) || Number.isNaN(e)) {
      if (Number.isNaN(a) !== Number.isNaN(e)) return `index ${i}: ${a}, expected ${e}`;
      continue;
    }
    const allowed = tolerance.relative * Math.abs(e) + tolerance.absolute;
    if (!(Math.abs(a - e) <= allowed))
      return `index ${i}: ${a}, expected ${e} (diff ${a - e}, allowed ${allowed})`;
  }
  return null;
}

/** Index of the first non-NaN value, or -1. */
export function firstValueIndex(series: readonly number[]): number {
  return series.findIndex((x) => !Number.isNaN(x));
}
