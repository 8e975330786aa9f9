import { TradekernelError, WrongExpectedRevisionError } from '../domain/errors.js';
import type { NewEvent } from '../domain/events/envelope.js';
import type { Candle, MarketKey } from '../domain/market/candle.js';
import {
  candleStreamEvents,
  type MarketEventContext,
  marketStreamOf,
  sameCandleValues,
  streamTimeKey,
} from '../domain/market/candle-events.js';
import { CandleClosed, type CandleClosedData } from '../domain/market/events.js';
import { type CandleGap, findGaps } from '../domain/market/gaps.js';
import {
  type CandleConflict,
  CandleConflictError,
  CandlesBeforeStreamEndError,
  LongGapError,
} from '../domain/market/stream-errors.js';
import { timeframeMs } from '../domain/market/timeframe.js';
import type { EventStore } from '../domain/ports/event-store.js';
import type { AppendPipeline } from './append-pipeline.js';

/** The most events one append may carry (the store's limit). */
export const MAX_APPEND = 65_536;

/** The first batch of a writer: small, so the store starts working early. */
const FIRST_BATCH = 4096;

/** Stored events read at once when candles overlap the stored part of a stream. */
const WINDOW_EVENTS = 50_000;

export interface MarketStreamWriterOptions {
  /** metadata of the events written (correlationId, mode...); never part of an id */
  context?: MarketEventContext;
  /** events per append, at most 65,536 (default) */
  batchSize?: number;
  /** stored events read at once to compare overlapping candles (default 50,000) */
  readWindow?: number;
}

/**
 * Candles to add: validated (aligned, strictly increasing); line/row locate them in a file; `id`
 * is the candle's event id when already derived (candleEventId), e.g. on a worker thread.
 */
export type SourceCandle = Candle & { line?: number; row?: number; id?: string };

export interface AddOptions {
  /** names the source in errors: a file, or "binance BTC/USDT 1h from ..." */
  source: string;
  /** called once every new event of these candles is stored */
  onStored?: () => void;
  /** refuse (LongGapError) a gap in front of the new candles longer than this, in ms */
  maxGapMs?: number;
}

export interface AddResult {
  /** candles that were not stored yet, now written or queued */
  added: number;
  /** candles already stored with exactly the same values */
  present: number;
  /** gaps found in front of the added candles (recorded as CandleGapDetected) */
  gaps: CandleGap[];
}

/** Another process appended to the stream while we were writing it. */
export class ConcurrentMarketWriteError extends TradekernelError {
  constructor(readonly stream: string) {
    super(
      `another writer appended to ${stream} during this run, so the rest was not written`,
      'concurrent_market_write',
      'wait for the other import or download of this market to finish, then run this one again: it skips what is already stored',
    );
  }
}

interface StoredWindow {
  /** candles stored with open time >= from, up to the end of the window */
  from: number;
  /** last stream key (occurredAt) read */
  coveredTo: number;
  /** the stream revision when the window read to the end of the stream, else null */
  endRevision: number | null;
  candles: Map<number, CandleClosedData>;
}

/**
 * Appends candles to one market stream and keeps it an append-only series in time order:
 * - candles after the last stored one are appended, with a CandleGapDetected event in front of
 *   any candle that follows a hole;
 * - candles at or before it must already be stored with exactly the same values: they are
 *   counted as present; a different value is a CandleConflictError, a candle that is not stored
 *   (in a recorded gap, or older than the stream) a CandlesBeforeStreamEndError. Either refuses
 *   the whole `add` before anything of it is queued.
 * Events are collected into batches of up to 65,536 and appended through the pipeline with the
 * stream's expected revision, so a concurrent writer is detected, never overwritten.
 */
export class MarketStreamWriter {
  readonly stream: string;
  private readonly step: number;
  private readonly batchSize: number;
  /** size of the next full batch: starts small, doubles up to batchSize */
  private nextBatch: number;
  private readonly readWindowSize: number;
  private readonly context: MarketEventContext;
  /** revision of the last stored event (-1: no stream); the expected revision of the next append */
  private storedRevision: number;
  /** open time of the first stored candle */
  private firstStored: number | undefined;
  /** open time of the last candle stored or queued */
  private lastOpenTime: number | undefined;
  private pending: NewEvent[] = [];
  /** callbacks due once pending[0 .. end) is stored */
  private pendingMarks: { end: number; done: () => void }[] = [];
  private window: StoredWindow | null = null;

  private constructor(
    private readonly store: EventStore,
    readonly key: MarketKey,
    private readonly pipeline: AppendPipeline,
    state: { revision: number; first: number | undefined; last: number | undefined },
    options: MarketStreamWriterOptions,
  ) {
    this.stream = marketStreamOf(key);
    this.step = timeframeMs(key.timeframe);
    this.batchSize = Math.min(MAX_APPEND, Math.max(1, options.batchSize ?? MAX_APPEND));
    this.nextBatch = Math.min(this.batchSize, FIRST_BATCH);
    this.readWindowSize = Math.max(1, options.readWindow ?? WINDOW_EVENTS);
    this.context = options.context ?? {};
    this.storedRevision = state.revision;
    this.firstStored = state.first;
    this.lastOpenTime = state.last;
  }

  /** Reads where the stream stands: its revision and its first and last candles. */
  static async open(
    store: EventStore,
    key: MarketKey,
    pipeline: AppendPipeline,
    options: MarketStreamWriterOptions = {},
  ): Promise<MarketStreamWriter> {
    const stream = marketStreamOf(key);
    const revision = await store.streamRevision(stream);
    let first: number | undefined;
    let last: number | undefined;
    if (revision >= 0) {
      first = await edgeCandleTime(store, stream, 'forwards');
      last = await edgeCandleTime(store, stream, 'backwards');
    }
    return new MarketStreamWriter(store, key, pipeline, { revision, first, last }, options);
  }

  /** Open time of the last candle stored or queued by this writer, if any. */
  get lastCandleOpenTime(): number | undefined {
    return this.lastOpenTime;
  }

  /**
   * Adds a validated series (aligned to the timeframe, strictly increasing). Returns once the
   * new events are queued; waits for the store while a full batch is still being written.
   */
  async add(candles: readonly SourceCandle[], options: AddOptions): Promise<AddResult> {
    const last = this.lastOpenTime;
    let split = 0;
    if (last !== undefined) while (split < candles.length && candles[split]!.openTime <= last) split++;
    const overlap = candles.slice(0, split);
    const fresh = split === 0 ? candles : candles.slice(split);

    let present = 0;
    if (overlap.length > 0) present = await this.checkStored(overlap, options.source);

    const gaps = findGaps(fresh, this.key.timeframe, last === undefined ? {} : { after: last });
    const step = timeframeMs(this.key.timeframe);
    const long = gaps.find((g) => g.to - g.from + step > (options.maxGapMs ?? Number.POSITIVE_INFINITY));
    if (long) throw new LongGapError(options.source, this.stream, long, options.maxGapMs!);
    if (fresh.length === 0) {
      options.onStored?.();
      return { added: 0, present, gaps };
    }
    const events = candleStreamEvents(this.key, fresh, gaps, this.context);
    for (const event of events) this.pending.push(event);
    if (options.onStored) this.pendingMarks.push({ end: this.pending.length, done: options.onStored });
    this.lastOpenTime = fresh[fresh.length - 1]!.openTime;
    this.firstStored ??= fresh[0]!.openTime;

    if (this.pending.length >= this.nextBatch) {
      while (this.pending.length >= this.nextBatch) this.enqueue(this.nextBatch);
      // One batch being written while the caller prepares the next: the store stays busy and
      // at most two batches are held in memory.
      await this.pipeline.settle(1);
    }
    return { added: fresh.length, present, gaps };
  }

  /** Queues every pending event (in batches) and waits until all are stored. */
  async flush(): Promise<void> {
    while (this.pending.length > 0) this.enqueue(Math.min(this.batchSize, this.pending.length));
    await this.pipeline.settle(0);
  }

  private enqueue(count: number): void {
    // Ramp up: a small first batch gets the store working while the next ones are prepared.
    this.nextBatch = Math.min(this.batchSize, this.nextBatch * 2);
    const batch = this.pending.splice(0, count);
    const done: (() => void)[] = [];
    const marks: { end: number; done: () => void }[] = [];
    for (const mark of this.pendingMarks) {
      if (mark.end <= count) done.push(mark.done);
      else marks.push({ end: mark.end - count, done: mark.done });
    }
    this.pendingMarks = marks;
    this.pipeline.enqueue(async () => {
      let result: Awaited<ReturnType<EventStore['append']>>;
      try {
        result = await this.store.append(this.stream, batch, this.storedRevision);
      } catch (error) {
        if (error instanceof WrongExpectedRevisionError) throw new ConcurrentMarketWriteError(this.stream);
        throw error;
      }
      this.storedRevision = result.nextExpectedRevision;
      for (const callback of done) callback();
    });
  }

  /**
   * Compares candles at or before the last stored one with the stored candles. Returns how many
   * are present; throws when any differs or is missing.
   */
  private async checkStored(overlap: readonly SourceCandle[], source: string): Promise<number> {
    // Everything queued must be in the store before it can be read back.
    await this.flush();
    const conflicts: CandleConflict[] = [];
    const missing: SourceCandle[] = [];
    let present = 0;
    for (const candle of overlap) {
      const stored = await this.storedCandle(candle.openTime);
      if (stored === undefined) missing.push(candle);
      else if (sameCandleValues(stored, candle)) present++;
      else {
        const conflict: CandleConflict = {
          openTime: candle.openTime,
          stored: pickCandle(stored),
          found: pickCandle(candle),
        };
        if (candle.line !== undefined && candle.row !== undefined) {
          conflict.line = candle.line;
          conflict.row = candle.row;
        }
        conflicts.push(conflict);
      }
    }
    if (conflicts.length > 0) throw new CandleConflictError(source, this.stream, conflicts);
    if (missing.length > 0) {
      throw new CandlesBeforeStreamEndError(
        source,
        this.stream,
        missing.length,
        missing[0]!.openTime,
        this.lastOpenTime!,
      );
    }
    return present;
  }

  /** The stored candle opening at `openTime`, or undefined when the stream has none there. */
  private async storedCandle(openTime: number): Promise<CandleClosedData | undefined> {
    const covered = (w: StoredWindow) =>
      openTime >= w.from && (openTime + this.step <= w.coveredTo || w.endRevision === this.storedRevision);
    if (!this.window || !covered(this.window)) this.window = await this.readWindow(openTime);
    return this.window.candles.get(openTime);
  }

  /** Reads stored candles from `from` onwards, up to readWindow events. */
  private async readWindow(from: number): Promise<StoredWindow> {
    const revision = await this.firstRevisionAfter(from);
    const candles = new Map<number, CandleClosedData>();
    let coveredTo = from;
    let endRevision: number | null = this.storedRevision;
    let count = 0;
    for await (const event of this.store.readStream(this.stream, { fromRevision: revision })) {
      if (event.type === CandleClosed.type) {
        const data = event.data as CandleClosedData;
        candles.set(data.openTime, data);
      }
      coveredTo = streamTimeKey(event);
      if (++count >= this.readWindowSize && event.revision < this.storedRevision) {
        endRevision = null;
        break;
      }
    }
    return { from, coveredTo, endRevision, candles };
  }

  /**
   * The first revision whose event is later than `time` (its key, occurredAt, exceeds it): the
   * candle opening at `time` if stored, else whatever follows. A binary search by revision,
   * starting where the candle would be if the stream had no gaps.
   */
  private async firstRevisionAfter(time: number): Promise<number> {
    let lo = 0;
    let hi = this.storedRevision + 1;
    let probe = this.firstStored === undefined ? lo : Math.round((time - this.firstStored) / this.step);
    while (lo < hi) {
      const mid = Math.min(hi - 1, Math.max(lo, probe));
      const key = await this.keyAt(mid);
      if (key > time) hi = mid;
      else lo = mid + 1;
      probe = lo + Math.floor((hi - lo) / 2);
    }
    return lo;
  }

  private async keyAt(revision: number): Promise<number> {
    for await (const event of this.store.readStream(this.stream, { fromRevision: revision, maxCount: 1 })) {
      return streamTimeKey(event);
    }
    return Number.POSITIVE_INFINITY;
  }
}

/** Open time of the first (forwards) or last (backwards) candle of a stream. */
export async function edgeCandleTime(
  store: EventStore,
  stream: string,
  direction: 'forwards' | 'backwards',
): Promise<number | undefined> {
  // The edges of a market stream are candles (a gap event always precedes a candle), so one
  // event is usually enough; anything else is skipped.
  for (const maxCount of [1, Number.MAX_SAFE_INTEGER]) {
    for await (const event of store.readStream(stream, { direction, maxCount })) {
      if (event.type === CandleClosed.type) return (event.data as CandleClosedData).openTime;
    }
  }
  return undefined;
}

function pickCandle(candle: Candle): Candle {
  const { openTime, open, high, low, close, volume } = candle;
  return { openTime, open, high, low, close, volume };
}
