import { TradekernelError } from '../errors.js';

/** A period or multiplier outside the range the indicator (and TA-Lib) accepts. */
export class IndicatorParameterError extends TradekernelError {
  constructor(indicator: string, detail: string) {
    super(`${indicator}: ${detail}`, 'invalid_indicator_parameter');
  }
}

/** A saved indicator state that cannot be resumed: wrong kind, missing field, inconsistent sizes. */
export class IndicatorSnapshotError extends TradekernelError {
  constructor(indicator: string, detail: string) {
    super(
      `${indicator} snapshot: ${detail}`,
      'invalid_indicator_snapshot',
      'the saved state is damaged or belongs to another indicator: rebuild it by replaying candles',
    );
  }
}

/** TA-Lib's own parameter ranges, so that every accepted period can be checked against it. */
export function requireInteger(indicator: string, name: string, value: number, min: number): number {
  if (!Number.isInteger(value) || value < min || value > 100_000) {
    throw new IndicatorParameterError(
      indicator,
      `${name} must be an integer from ${min} to 100000, got ${value}`,
    );
  }
  return value;
}

export function requirePositiveFinite(indicator: string, name: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0) {
    throw new IndicatorParameterError(indicator, `${name} must be a positive finite number, got ${value}`);
  }
  return value;
}

/**
 * A NaN or Infinity input would silently poison every later value (and a snapshot, since JSON
 * writes NaN as null). Candles are validated upstream, so this is a bug in the caller.
 */
export function requireFiniteInput(indicator: string, value: number): void {
  if (!Number.isFinite(value))
    throw new RangeError(`${indicator}.update: input must be finite, got ${value}`);
}
