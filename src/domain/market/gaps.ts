import { isAligned, type Timeframe, timeframeMs } from './timeframe.js';

/** A run of missing candles: open times `from`, `from + tf`, … `to`, `missing` of them. */
export interface CandleGap {
  /** open time of the first missing candle */
  from: number;
  /** open time of the last missing candle */
  to: number;
  missing: number;
}

export interface FindGapsOptions {
  /**
   * Open time of the last candle already stored before this series, so a gap between stored
   * data and the new file is reported too. Candles at or before it are an overlap, not a gap.
   */
  after?: number;
}

/**
 * Lists the gaps in a series of aligned candles in strictly increasing open-time order (run
 * validateCandles first). Gaps are reported, never filled: outages are facts of the market.
 */
export function findGaps(
  candles: readonly { openTime: number }[],
  timeframe: Timeframe,
  options: FindGapsOptions = {},
): CandleGap[] {
  const step = timeframeMs(timeframe);
  const gaps: CandleGap[] = [];
  if (options.after !== undefined) requireAligned(options.after, timeframe, 'the `after` open time');
  let previous: number | undefined;
  for (const [index, candle] of candles.entries()) {
    const openTime = candle.openTime;
    requireAligned(openTime, timeframe, `candle ${index}`);
    if (previous !== undefined && openTime <= previous) {
      throw new RangeError(
        `findGaps needs strictly increasing open times, but candle ${index} opens at ${openTime}, ` +
          `not after ${previous}; validate the series first`,
      );
    }
    // The latest open time known before this candle, stored or in the series. A candle at or
    // before the stored one overlaps stored data: that is not a gap.
    const known = latest(previous, options.after);
    if (known !== undefined && openTime > known + step) {
      const from = known + step;
      const to = openTime - step;
      gaps.push({ from, to, missing: (to - from) / step + 1 });
    }
    previous = openTime;
  }
  return gaps;
}

/** Total number of missing candles over a list of gaps. */
export function countMissing(gaps: readonly CandleGap[]): number {
  return gaps.reduce((sum, gap) => sum + gap.missing, 0);
}

function latest(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return Math.max(a, b);
}

function requireAligned(openTime: number, timeframe: Timeframe, what: string): void {
  if (!isAligned(openTime, timeframe)) {
    throw new RangeError(
      `findGaps needs ${timeframe}-aligned open times, but ${what} opens at ${openTime}; validate the series first`,
    );
  }
}
