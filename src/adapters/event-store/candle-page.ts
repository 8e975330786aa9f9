import { type Candle, setCandleAt } from '../../domain/market/candle.js';
import { CandleClosed } from '../../domain/market/events.js';
import type { CandlePage, CandleRangeRequest } from '../../domain/ports/event-store.js';

/** Candles per page unless the request says. */
const PAGE_CANDLES = 8_192;

/** The page size a bulk candle read asks for: the request's, or the default. */
export function candlePageSize(request: CandleRangeRequest): number {
  const size = request.pageSize ?? PAGE_CANDLES;
  if (!(Number.isInteger(size) && size >= 1))
    throw new RangeError(`readCandleRange: pageSize must be an integer >= 1, got ${size}`);
  return size;
}

/** A page of a bulk candle read (CandleRangeRequest) being filled: six columns of a fixed capacity. */
export class CandlePageBuffer implements CandlePage {
  length = 0;
  readonly openTime: Float64Array;
  readonly open: Float64Array;
  readonly high: Float64Array;
  readonly low: Float64Array;
  readonly close: Float64Array;
  readonly volume: Float64Array;
  readonly others: { type: string; data: unknown }[] = [];

  constructor(readonly capacity: number) {
    // the six columns, one after another: one allocation per page
    const buffer = new ArrayBuffer(capacity * 6 * Float64Array.BYTES_PER_ELEMENT);
    const column = (i: number) => new Float64Array(buffer, i * capacity * 8, capacity);
    this.openTime = column(0);
    this.open = column(1);
    this.high = column(2);
    this.low = column(3);
    this.close = column(4);
    this.volume = column(5);
  }

  push(candle: Pick<Candle, 'openTime' | 'open' | 'high' | 'low' | 'close' | 'volume'>): void {
    const n = this.length;
    if (n === this.capacity) throw new RangeError('CandlePageBuffer: more candles than the page holds');
    setCandleAt(this, n, candle);
    this.length = n + 1;
  }

  /** A stored event of the range: a candle into the columns, anything else (an outage) into others. */
  add(event: { type: string; data: unknown }): void {
    if (event.type === CandleClosed.type) this.push(event.data as Candle);
    else this.others.push({ type: event.type, data: event.data });
  }

  get full(): boolean {
    return this.length === this.capacity;
  }
}
