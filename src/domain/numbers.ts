/**
 * `x` to `digits` significant digits: the binary noise of a computed price or quantity gone
 * (1538.8190249999998 → 1538.819025 at 12). For display, and for values built from steps.
 */
export function significant(x: number, digits: number): number {
  return Number(x.toPrecision(digits));
}
