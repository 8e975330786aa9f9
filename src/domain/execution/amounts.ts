/**
 * Quantities and prices on an exchange's grid (amount step, price step).
 *
 * Plain `Math.floor(x / step) * step` is wrong in binary floating point: 0.3 / 0.1 is
 * 2.9999999999999996, which floors to 2 and turns 0.3 into 0.2. Here the quotient is only a
 * first guess: the candidate multiples around it, rounded to the step's decimals (so 3 * 0.1 is
 * 0.3, not 0.30000000000000004), are compared with the input itself, so a result is never on the
 * wrong side of it, however many steps the value holds. (A tolerance relative to the value, as
 * before, let 139,319.018275855 XRP on a 1e-8 step round down to 12 steps above itself.)
 */

/** Decimal places of a step: 0.00001 → 5, 0.5 → 1, 1 → 0. At most 12. */
export function stepDecimals(step: number): number {
  for (let d = 0; d <= 12; d++) {
    const scaled = step * 10 ** d;
    if (Math.abs(scaled - Math.round(scaled)) < 1e-9 * Math.max(1, scaled)) return d;
  }
  return 12;
}

function onGrid(units: number, step: number, decimals: number): number {
  const scale = 10 ** decimals;
  return Math.round(units * step * scale) / scale;
}

/** The largest multiple of `step` that is <= value (0 for values below one step). */
export function roundDownToStep(value: number, step: number, decimals = stepDecimals(step)): number {
  if (!(value > 0)) return 0;
  let units = Math.floor(value / step);
  // the division can land a hair under a whole number of steps, or over one
  if (onGrid(units + 1, step, decimals) <= value) units += 1;
  while (units > 0 && onGrid(units, step, decimals) > value) units -= 1;
  return onGrid(units, step, decimals);
}

/** The smallest multiple of `step` that is >= value. */
export function roundUpToStep(value: number, step: number, decimals = stepDecimals(step)): number {
  if (!(value > 0)) return 0;
  let units = Math.ceil(value / step);
  if (units > 1 && onGrid(units - 1, step, decimals) >= value) units -= 1;
  while (onGrid(units, step, decimals) < value) units += 1;
  return onGrid(units, step, decimals);
}

/** The multiple of `step` nearest to value (0 for values under half a step). */
export function roundToStep(value: number, step: number, decimals = stepDecimals(step)): number {
  if (!(value > 0)) return 0;
  return onGrid(Math.round(value / step), step, decimals);
}
