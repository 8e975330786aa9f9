import { candleCloseTime } from './candle.js';
import type { Timeframe } from './timeframe.js';

/**
 * Separates candles that have closed by `now` (epoch ms) from those still open. Exchanges serve
 * the current candle while it is forming, and a file downloaded mid-hour ends with one; storing
 * it would freeze prices that will still change. A candle is closed once
 * openTime + timeframe <= now. `now` is a parameter so this stays pure and testable.
 */
export function splitUnclosedCandles<T extends { openTime: number }>(
  candles: readonly T[],
  timeframe: Timeframe,
  now: number,
): { closed: T[]; unclosed: T[] } {
  const closed: T[] = [];
  const unclosed: T[] = [];
  for (const candle of candles) {
    (candleCloseTime(candle.openTime, timeframe) <= now ? closed : unclosed).push(candle);
  }
  return { closed, unclosed };
}

/** The candles closed by `now`: splitUnclosedCandles without the open ones. */
export function dropUnclosedCandles<T extends { openTime: number }>(
  candles: readonly T[],
  timeframe: Timeframe,
  now: number,
): T[] {
  return splitUnclosedCandles(candles, timeframe, now).closed;
}
