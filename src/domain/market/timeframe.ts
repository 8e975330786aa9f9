/** Candle timeframes the system understands, with their length in milliseconds. */
export const TIMEFRAMES = {
  '1m': 60_000,
  '3m': 180_000,
  '5m': 300_000,
  '15m': 900_000,
  '30m': 1_800_000,
  '1h': 3_600_000,
  '2h': 7_200_000,
  '4h': 14_400_000,
  '6h': 21_600_000,
  '8h': 28_800_000,
  '12h': 43_200_000,
  '1d': 86_400_000,
  '1w': 604_800_000,
} as const;

export type Timeframe = keyof typeof TIMEFRAMES;

export function isTimeframe(value: string): value is Timeframe {
  return Object.hasOwn(TIMEFRAMES, value);
}

export function timeframeMs(timeframe: Timeframe): number {
  return TIMEFRAMES[timeframe];
}

/** Parses a timeframe or throws an error that lists the accepted values. */
export function parseTimeframe(value: string, field = 'timeframe'): Timeframe {
  if (isTimeframe(value)) return value;
  throw new RangeError(
    `${field}: "${value}" is not a timeframe; use one of ${Object.keys(TIMEFRAMES).join(', ')}`,
  );
}

/**
 * Weekly candles on Binance open on Monday 00:00 UTC, while the epoch was a Thursday: align
 * weeks to Monday. Every other timeframe divides a day and aligns to the epoch.
 */
const WEEK_OFFSET_MS = 4 * 86_400_000;

export function alignTime(timeMs: number, timeframe: Timeframe): number {
  const len = TIMEFRAMES[timeframe];
  const offset = timeframe === '1w' ? WEEK_OFFSET_MS : 0;
  return Math.floor((timeMs - offset) / len) * len + offset;
}

export function isAligned(timeMs: number, timeframe: Timeframe): boolean {
  return alignTime(timeMs, timeframe) === timeMs;
}
