import type { Observable } from 'rxjs';
import type { ExpectedRevisionText } from '../errors.js';
import type { NewEvent, RecordedEvent } from '../events/envelope.js';
import type { CandleColumns } from '../market/candle.js';

/**
 * The event-store port. The domain owns it; adapters implement it for PGlite, PostgreSQL and
 * EventStoreDB, and one contract suite (test/contract) holds them all to the same behaviour.
 */

/**
 * `any`: no check. `no_stream`: the stream must not exist. `stream_exists`: it must.
 * A number: the stream's last revision must be exactly that (0-based; -1 = no stream).
 */
export type ExpectedRevision = ExpectedRevisionText;

/** Whether a stream whose last revision is `actual` (-1: no stream) meets `expected`. */
export function expectedRevisionHolds(expected: ExpectedRevision, actual: number): boolean {
  return (
    expected === 'any' ||
    (expected === 'no_stream' && actual === -1) ||
    (expected === 'stream_exists' && actual >= 0) ||
    expected === actual
  );
}

export interface AppendResult {
  /** Revision of the last event of the stream after the append (use as the next expected). */
  nextExpectedRevision: number;
  /** Global position of the batch's last event. */
  position: number;
  /** false when every event of the batch was already stored (an idempotent retry). */
  written: boolean;
}

export interface ReadStreamOptions {
  direction?: 'forwards' | 'backwards';
  /** Inclusive. Default: the first revision forwards, the last backwards. */
  fromRevision?: number;
  maxCount?: number;
}

export interface AllFilter {
  /** Streams whose name starts with one of these. */
  streamPrefixes?: readonly string[];
  /** Events of one of these types. */
  types?: readonly string[];
}

export interface ReadAllOptions {
  /** Forwards (default) from `after`, or backwards from the newest event (or from `before`). */
  direction?: 'forwards' | 'backwards';
  /** Exclusive: read events after this global position (a checkpoint). Default 0: from the start. */
  after?: number;
  /** Exclusive, backwards only: read events before this global position. Default: the newest. */
  before?: number;
  maxCount?: number;
  filter?: AllFilter;
  /** Events fetched per round trip. */
  pageSize?: number;
}

export interface SubscribeOptions {
  /** Exclusive checkpoint to resume after. Default 0: from the start. */
  after?: number;
  filter?: AllFilter;
  pageSize?: number;
}

/**
 * Catch-up then live. Iterate it (for await) or take it as an rxjs Observable; close() ends both.
 * `position` is the global position of the last event delivered (or skipped by the filter), the
 * value to checkpoint.
 */
export interface Subscription extends AsyncIterable<RecordedEvent> {
  readonly position: number;
  /** true once the subscription has delivered everything stored when it last looked. */
  readonly caughtUp: boolean;
  close(): Promise<void>;
  asObservable(): Observable<RecordedEvent>;
}

export interface StoreStats {
  kind: StoreKind;
  location: string;
  events: number;
  streams: number;
  lastPosition: number;
  byCategory: { category: string; streams: number; events: number }[];
  byType: { type: string; events: number }[];
}

export type StoreKind = 'pglite' | 'postgres' | 'esdb';

/**
 * A bulk read of one market stream (`market-<exchange>-<BASE_QUOTE>-<tf>`, domain/market/events.ts):
 * the candles opening in [from, to) as columns of numbers, page by page, without an event object
 * per candle. Backtests read a year of 1-minute candles this way. In a market stream occurredAt
 * never decreases (a candle's is its close time, openTime + step; an outage record's is the open
 * time of the candle that ends it), so the range is the events with occurredAt in
 * [from + step, to + step).
 */
export interface CandleRangeRequest {
  readonly stream: string;
  /** open time of the first candle wanted (epoch ms) */
  readonly from: number;
  /** exclusive */
  readonly to: number;
  /** the stream's timeframe in ms */
  readonly step: number;
  /** candles per page; the store's own choice when absent */
  readonly pageSize?: number;
}

/** Candles [0, length) of a page, in stream order; the arrays may be longer than `length`. */
export interface CandlePage extends CandleColumns {
  readonly length: number;
  /**
   * The page's events that are not candles (outage records), decoded; the last page also carries
   * the event right after the range when it is not a candle (an outage that began inside the
   * range and ended after it).
   */
  readonly others: readonly { readonly type: string; readonly data: unknown }[];
}

export interface CandleRange {
  /** at least the number of candles the pages will hold (to size columns once) */
  readonly maxCandles: number;
  /**
   * Stored id and open time of the range's first and last candle (0-2 entries). The pages carry
   * no ids: a reader checks these against the ids it expects the candles to have.
   */
  readonly edgeCandles: readonly { readonly id: string; readonly openTime: number }[];
  /** Each page is valid until the next one is asked for (its arrays are reused). */
  readonly pages: AsyncIterable<CandlePage>;
}

export interface EventStore {
  readonly kind: StoreKind;
  /** Where the events live (a directory or a URL with the password removed). */
  readonly location: string;
  /**
   * Atomically appends a batch to one stream after checking `expected`. Every event is validated
   * first; a batch whose event ids are all stored already in this stream, in this order, is an
   * idempotent no-op. Throws WrongExpectedRevisionError, DuplicateEventIdError, InvalidEventError.
   */
  append(stream: string, events: readonly NewEvent[], expected?: ExpectedRevision): Promise<AppendResult>;
  readStream(stream: string, options?: ReadStreamOptions): AsyncIterable<RecordedEvent>;
  /** The revision of the stream's last event, or -1 when it does not exist. */
  streamRevision(stream: string): Promise<number>;
  /** Global order. Never skips an event that commits after a later one became visible. */
  readAll(options?: ReadAllOptions): AsyncIterable<RecordedEvent>;
  subscribeAll(options?: SubscribeOptions): Subscription;
  /** The highest global position stored (0 when empty). */
  headPosition(): Promise<number>;
  stats(): Promise<StoreStats>;
  /**
   * Optional bulk read of a market stream's candles (CandleRangeRequest). Stores without it are
   * read through readStream; the two give the same candles.
   */
  readCandleRange?(request: CandleRangeRequest): Promise<CandleRange>;
  close(): Promise<void>;
}
