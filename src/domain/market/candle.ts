import { type Timeframe, timeframeMs } from './timeframe.js';

/** One OHLCV bar. Times are epoch milliseconds UTC; closeTime is exclusive (openTime + timeframe). */
export interface Candle {
  openTime: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
}

/** Identifies one market series: exchange, symbol (BASE/QUOTE) and timeframe. */
export interface MarketKey {
  exchange: string;
  symbol: string;
  timeframe: Timeframe;
}

/**
 * A candle as read from a file, remembering where it came from so that every error can point
 * at it. `line` is the 1-based text line where the row starts; `row` is the 1-based position
 * among the file's data rows (the useful number for one-line JSON files).
 */
export interface CandleRow extends Candle {
  line: number;
  row: number;
}

/** Exclusive close time: the candle covers [openTime, openTime + timeframe). */
export function candleCloseTime(openTime: number, timeframe: Timeframe): number {
  return openTime + timeframeMs(timeframe);
}

/** Candles as six columns of equal length (bulk reads and backtests: no object per candle). */
export interface CandleColumns {
  readonly openTime: Float64Array;
  readonly open: Float64Array;
  readonly high: Float64Array;
  readonly low: Float64Array;
  readonly close: Float64Array;
  readonly volume: Float64Array;
}

/** Writes candle `c` at index `i` of the columns. */
export function setCandleAt(
  columns: CandleColumns,
  i: number,
  c: Pick<Candle, 'openTime' | 'open' | 'high' | 'low' | 'close' | 'volume'>,
): void {
  columns.openTime[i] = c.openTime;
  columns.open[i] = c.open;
  columns.high[i] = c.high;
  columns.low[i] = c.low;
  columns.close[i] = c.close;
  columns.volume[i] = c.volume;
}
