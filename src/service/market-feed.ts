/**
 * The service's market side: per symbol, the market stream's cursor (what is stored, what the
 * kernel has handled) and the candles stored but not yet handled. It fetches closed candles
 * through the CandleSource, appends them with expected revisions, and hands them out merged by
 * close time up to the watermark (the oldest symbol's newest close), so the kernel always sees
 * "every stored candle from the account's start, merged by close time", whatever crashed when.
 */
import type { Logger } from 'pino';
import { ConfigError, WrongExpectedRevisionError } from '../domain/errors.js';
import type { NewEvent, RecordedEvent } from '../domain/events/envelope.js';
import type { Candle, MarketKey } from '../domain/market/candle.js';
import { candleStreamEvents } from '../domain/market/candle-events.js';
import { dropUnclosedCandles } from '../domain/market/closed-candles.js';
import { type CandleClosedData, marketStream } from '../domain/market/events.js';
import type { CandleGap } from '../domain/market/gaps.js';
import { type Timeframe, timeframeMs } from '../domain/market/timeframe.js';
import type { CandleSource } from '../domain/ports/candle-source.js';
import type { EventStore } from '../domain/ports/event-store.js';
import { delay } from './clock.js';
import type { MarketCursor } from './snapshots.js';

export type CandleClosedEvent = NewEvent<'CandleClosed', CandleClosedData>;

interface PendingCandle {
  event: CandleClosedEvent;
  revision: number;
}

interface SymbolFeed {
  symbol: string;
  stream: string;
  key: MarketKey;
  /** revision of the market stream's last event (-1 none) */
  revision: number;
  /** open time of the newest stored candle (-inf none) */
  lastOpen: number;
  /** the last candle handed to the kernel */
  handledRevision: number;
  handledOpen: number | null;
  /** stored, not yet handled by the kernel (close time above the watermark) */
  pending: PendingCandle[];
}

export interface FeedOptions {
  store: EventStore;
  source: CandleSource;
  logger: Logger;
  exchange: string;
  timeframe: Timeframe;
  symbols: readonly string[];
  /** open time of the account's first input candle */
  from: number;
  fetchAttempts: number;
  /** pause between fetch attempts (real ms) */
  retryDelayMs: (attempt: number) => number;
  /** counts every fetch attempt and failure (the soak's collection rate) */
  onAttempt?: (ok: boolean) => void;
  /** the service is stopping: no more symbols are fetched, no retry waited for */
  stop?: AbortSignal;
}

export class MarketFeed {
  private readonly step: number;
  private feeds: SymbolFeed[] = [];

  constructor(private readonly o: FeedOptions) {
    this.step = timeframeMs(o.timeframe);
  }

  get symbols(): readonly string[] {
    return this.feeds.map((f) => f.symbol);
  }

  /**
   * Loads every market stream's cursor; the candles after a snapshot's cursors (or, without one,
   * every candle from the account's start) become pending.
   */
  async load(cursors: readonly MarketCursor[] | null): Promise<void> {
    const { store, exchange, timeframe, symbols } = this.o;
    this.feeds = [];
    for (const symbol of symbols) {
      const cursor = cursors?.find((c) => c.symbol === symbol);
      const stream = marketStream(exchange, symbol, timeframe);
      const feed: SymbolFeed = {
        symbol,
        stream,
        key: { exchange, symbol, timeframe },
        revision: cursor?.handledRevision ?? -1,
        lastOpen: cursor?.handledOpen ?? Number.NEGATIVE_INFINITY,
        handledRevision: cursor?.handledRevision ?? -1,
        handledOpen: cursor?.handledOpen ?? null,
        pending: [],
      };
      for await (const e of store.readStream(stream, { fromRevision: feed.revision + 1 })) this.take(feed, e);
      this.feeds.push(feed);
    }
  }

  private take(feed: SymbolFeed, e: RecordedEvent): void {
    feed.revision = e.revision;
    if (e.type !== 'CandleClosed') return;
    const event = e as unknown as CandleClosedEvent;
    feed.lastOpen = event.data.openTime;
    if (event.data.openTime >= this.o.from) feed.pending.push({ event, revision: e.revision });
  }

  cursors(): MarketCursor[] {
    return this.feeds.map((f) => ({
      symbol: f.symbol,
      handledRevision: f.handledRevision,
      handledOpen: f.handledOpen,
    }));
  }

  /** Closed candles of every symbol after the newest stored one; failed symbols are reported. */
  async fetchAll(now: number): Promise<{ fetched: Map<string, Candle[]>; failed: Map<string, unknown> }> {
    const fetched = new Map<string, Candle[]>();
    const failed = new Map<string, unknown>();
    for (const f of this.feeds) {
      // a symbol left out now is fetched by the next start (its candles wait in the exchange)
      if (this.o.stop?.aborted) break;
      try {
        fetched.set(f.symbol, await this.fetchClosed(f, now));
      } catch (error) {
        if (this.o.stop?.aborted) break;
        failed.set(f.symbol, error);
      }
    }
    return { fetched, failed };
  }

  private async fetchClosed(f: SymbolFeed, now: number): Promise<Candle[]> {
    const { source, timeframe } = this.o;
    const out: Candle[] = [];
    let since = Number.isFinite(f.lastOpen) ? f.lastOpen + this.step : this.o.from;
    for (let page = 0; page < 1000; page++) {
      const rows = await this.withAttempts(() =>
        source.fetchCandles(f.symbol, timeframe, since, source.maxPageSize),
      );
      const closed = dropUnclosedCandles(rows, timeframe, now).filter(
        (c) => c.openTime >= since && c.openTime % this.step === 0,
      );
      for (const c of closed) {
        if (out.length > 0 && c.openTime <= out[out.length - 1]!.openTime) continue;
        out.push(c);
      }
      if (closed.length < rows.length || rows.length < source.maxPageSize || closed.length === 0) break;
      since = closed[closed.length - 1]!.openTime + this.step;
    }
    return out;
  }

  private async withAttempts<T>(work: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        const result = await work();
        this.o.onAttempt?.(true);
        return result;
      } catch (error) {
        this.o.onAttempt?.(false);
        if (error instanceof ConfigError || attempt >= this.o.fetchAttempts || this.o.stop?.aborted)
          throw error;
        this.o.logger.warn({ attempt, err: (error as Error).message }, 'fetch failed; retrying');
        // a stop ends the wait, and the fetch with this error
        await delay(this.o.retryDelayMs(attempt), this.o.stop).catch(() => {
          throw error;
        });
      }
    }
  }

  /** Appends fetched candles (and the gaps before them) to the symbol's market stream. */
  async append(symbol: string, candles: readonly Candle[]): Promise<void> {
    const f = this.feeds.find((x) => x.symbol === symbol)!;
    for (let attempt = 0; ; attempt++) {
      const fresh = candles.filter((c) => c.openTime > f.lastOpen);
      if (fresh.length === 0) return;
      const gaps: CandleGap[] = [];
      let prev = f.lastOpen;
      for (const c of fresh) {
        if (Number.isFinite(prev) && c.openTime > prev + this.step)
          gaps.push({
            from: prev + this.step,
            to: c.openTime - this.step,
            missing: (c.openTime - prev) / this.step - 1,
          });
        prev = c.openTime;
      }
      const events = candleStreamEvents(f.key, fresh, gaps, { mode: 'paper' });
      try {
        const result = await this.o.store.append(f.stream, events, f.revision);
        const first = result.nextExpectedRevision - events.length + 1;
        events.forEach((e, i) => {
          f.revision = first + i;
          if (e.type === 'CandleClosed') {
            const event = e as CandleClosedEvent;
            f.lastOpen = event.data.openTime;
            if (event.data.openTime >= this.o.from) f.pending.push({ event, revision: first + i });
          }
        });
        return;
      } catch (error) {
        // another writer (a `data download`) extended the stream: pick up what it stored
        if (!(error instanceof WrongExpectedRevisionError) || attempt > 2) throw error;
        for await (const e of this.o.store.readStream(f.stream, { fromRevision: f.revision + 1 }))
          this.take(f, e);
      }
    }
  }

  /** The oldest of the symbols' newest stored close times (-inf until every symbol has data). */
  watermark(): number {
    let w = Number.POSITIVE_INFINITY;
    for (const f of this.feeds) {
      const last = f.pending[f.pending.length - 1];
      const close = last
        ? last.event.data.closeTime
        : Number.isFinite(f.lastOpen)
          ? f.lastOpen + this.step
          : Number.NEGATIVE_INFINITY;
      w = Math.min(w, close);
    }
    return w;
  }

  /** How many pending candles close before `time`. */
  pendingClosingBefore(time: number): number {
    let n = 0;
    for (const f of this.feeds) for (const p of f.pending) if (p.event.data.closeTime < time) n++;
    return n;
  }

  /** Removes and returns the pending candles closing at or before `time`, merged by close time. */
  takeUpTo(time: number): CandleClosedEvent[] {
    const out: CandleClosedEvent[] = [];
    for (const f of this.feeds) {
      let n = 0;
      while (n < f.pending.length && f.pending[n]!.event.data.closeTime <= time) n++;
      if (n === 0) continue;
      const taken = f.pending.splice(0, n);
      const last = taken[taken.length - 1]!;
      f.handledRevision = last.revision;
      f.handledOpen = last.event.data.openTime;
      for (const p of taken) out.push(p.event);
    }
    const order = new Map(this.feeds.map((f, i) => [f.symbol, i]));
    out.sort(
      (a, b) => a.data.closeTime - b.data.closeTime || order.get(a.data.symbol)! - order.get(b.data.symbol)!,
    );
    return out;
  }
}
