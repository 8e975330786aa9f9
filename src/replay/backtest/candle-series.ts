/**
 * CandleSeries: the candles of one exchange and timeframe for several symbols, column by column
 * (one Float64Array per field per symbol). It is what the backtest reads the market streams
 * into, and what `simulate` replays; the optimiser and walk-forward hand the same series to many
 * simulations.
 *
 * Memory: 48 bytes per candle (6 x float64). allocateCandleSeries(..., { shared: true }) puts
 * every column of every symbol into ONE SharedArrayBuffer; a series built that way can be posted
 * to worker threads as it is (`worker.postMessage(series)` / `workerData: series`): the
 * structured clone of a typed array on a SharedArrayBuffer shares the memory, it does not copy it.
 * The series object itself is plain data (strings, numbers, typed arrays; `ids` is optional and
 * is best left out when posting).
 *
 * Invariants (checked by validateCandleSeries): per symbol, open times strictly increase, and the
 * columns have equal lengths. closeTime is not stored: it is openTime + timeframe, as in every
 * CandleClosed of a market stream.
 */
import type { NewEvent } from '../../domain/events/envelope.js';
import { type Candle, type CandleColumns, setCandleAt } from '../../domain/market/candle.js';
import type { CandleClosedData } from '../../domain/market/events.js';
import type { Timeframe } from '../../domain/market/timeframe.js';

/** One symbol's candles: six columns of equal length, open times strictly increasing. */
export interface SymbolColumns extends CandleColumns {
  /**
   * The CandleClosed event ids, when the candles were read from a market stream. Optional:
   * without them, simulate derives each candle's id with candleEventId (the id every import and
   * download gives a candle), and only for candles that caused a decision.
   */
  readonly ids?: readonly string[];
}

export interface CandleSeries {
  readonly exchange: string;
  readonly timeframe: Timeframe;
  /** in the order the kernel's context lists them; candles closing at the same time replay in this order */
  readonly symbols: readonly string[];
  /** columns[i] holds symbols[i]'s candles */
  readonly columns: readonly SymbolColumns[];
}

export const CANDLE_FIELDS = ['openTime', 'open', 'high', 'low', 'close', 'volume'] as const;
export type CandleField = (typeof CANDLE_FIELDS)[number];

export interface AllocateOptions {
  /** one SharedArrayBuffer for all columns, for worker threads (default false: ArrayBuffer) */
  shared?: boolean;
}

/**
 * Columns for `lengths[i]` candles of symbols[i], zero-filled, all carved out of one buffer
 * (shared or not). Fill them, then treat the series as read-only.
 */
export function allocateCandleSeries(
  exchange: string,
  timeframe: Timeframe,
  symbols: readonly string[],
  lengths: readonly number[],
  options: AllocateOptions = {},
): CandleSeries {
  if (lengths.length !== symbols.length) throw new RangeError('allocateCandleSeries: one length per symbol');
  const total = lengths.reduce((a, b) => a + b, 0);
  const bytes = total * CANDLE_FIELDS.length * Float64Array.BYTES_PER_ELEMENT;
  const buffer = options.shared ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes);
  let offset = 0;
  const columns = lengths.map((n) => {
    const column = (): Float64Array => {
      const view = new Float64Array(buffer, offset, n);
      offset += n * Float64Array.BYTES_PER_ELEMENT;
      return view;
    };
    return {
      openTime: column(),
      open: column(),
      high: column(),
      low: column(),
      close: column(),
      volume: column(),
    };
  });
  return { exchange, timeframe, symbols: [...symbols], columns };
}

/** A series from candle arrays per symbol (each ascending by open time). */
export function candleSeriesFromCandles(
  exchange: string,
  timeframe: Timeframe,
  bySymbol: ReadonlyArray<readonly [symbol: string, candles: readonly Candle[]]>,
  options: AllocateOptions = {},
): CandleSeries {
  const series = allocateCandleSeries(
    exchange,
    timeframe,
    bySymbol.map(([s]) => s),
    bySymbol.map(([, c]) => c.length),
    options,
  );
  bySymbol.forEach(([, candles], i) => {
    const col = series.columns[i]!;
    for (let j = 0; j < candles.length; j++) setCandleAt(col, j, candles[j]!);
  });
  validateCandleSeries(series);
  return series;
}

/**
 * A series from CandleClosed events (any order across symbols, ascending within each; other
 * event types, exchanges, timeframes and symbols are skipped). Keeps the event ids.
 */
export function candleSeriesFromEvents(
  exchange: string,
  timeframe: Timeframe,
  symbols: readonly string[],
  events: Iterable<Pick<NewEvent, 'id' | 'type' | 'data'>>,
  options: AllocateOptions = {},
): CandleSeries {
  const index = new Map(symbols.map((s, i) => [s, i]));
  const perSymbol: { candles: CandleClosedData[]; ids: string[] }[] = symbols.map(() => ({
    candles: [],
    ids: [],
  }));
  for (const e of events) {
    if (e.type !== 'CandleClosed') continue;
    const d = e.data as CandleClosedData;
    if (d.exchange !== exchange || d.timeframe !== timeframe) continue;
    const i = index.get(d.symbol);
    if (i === undefined) continue;
    perSymbol[i]!.candles.push(d);
    perSymbol[i]!.ids.push(e.id);
  }
  const series = candleSeriesFromCandles(
    exchange,
    timeframe,
    symbols.map((s, i) => [s, perSymbol[i]!.candles] as const),
    options,
  );
  return {
    ...series,
    columns: series.columns.map((c, i) => ({ ...c, ids: perSymbol[i]!.ids })),
  };
}

/** Checks equal column lengths and strictly increasing open times; throws RangeError. */
export function validateCandleSeries(series: CandleSeries): void {
  if (series.columns.length !== series.symbols.length)
    throw new RangeError('CandleSeries: one column set per symbol');
  series.columns.forEach((col, i) => {
    const n = col.openTime.length;
    for (const f of CANDLE_FIELDS) {
      if (col[f].length !== n)
        throw new RangeError(`CandleSeries: ${series.symbols[i]} ${f} has a different length`);
    }
    if (col.ids !== undefined && col.ids.length !== n)
      throw new RangeError(`CandleSeries: ${series.symbols[i]} ids have a different length`);
    const t = col.openTime;
    for (let j = 1; j < n; j++) {
      if (!(t[j]! > t[j - 1]!))
        throw new RangeError(`CandleSeries: ${series.symbols[i]} open times do not increase at index ${j}`);
    }
  });
}

/** First index whose open time is >= time (n when none). */
export function lowerBound(times: Float64Array, time: number): number {
  let lo = 0;
  let hi = times.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (times[mid]! < time) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * The candles opening in [from, to) (either bound optional), as views of the same memory (no
 * copy). Walk-forward windows are slices of one series.
 */
export function sliceCandleSeries(series: CandleSeries, from?: number, to?: number): CandleSeries {
  return {
    ...series,
    columns: series.columns.map((col) => {
      const a = from === undefined ? 0 : lowerBound(col.openTime, from);
      const b = to === undefined ? col.openTime.length : Math.max(a, lowerBound(col.openTime, to));
      return {
        openTime: col.openTime.subarray(a, b),
        open: col.open.subarray(a, b),
        high: col.high.subarray(a, b),
        low: col.low.subarray(a, b),
        close: col.close.subarray(a, b),
        volume: col.volume.subarray(a, b),
        ...(col.ids !== undefined ? { ids: col.ids.slice(a, b) } : {}),
      };
    }),
  };
}

/** Candles in the series, all symbols together. */
export function candleCount(series: CandleSeries): number {
  let n = 0;
  for (const c of series.columns) n += c.openTime.length;
  return n;
}
