/**
 * Reading a backtest's candles from the market streams (`market-<exchange>-<BASE_QUOTE>-<tf>`)
 * into a CandleSeries, and finding out what is missing.
 *
 * Two ways to read the same events, giving the same series (test/replay/market-data.test.ts):
 * - the store's bulk read, EventStore.readCandleRange (domain/ports/event-store.ts): columns of
 *   numbers page by page, no event object per candle (the SQL stores read their table directly,
 *   src/adapters/event-store/candle-range-reader.ts). It carries no candle ids: the ids of the
 *   range's edge candles are checked to be candleEventId's, which every writer of market streams
 *   (import, download) gives a candle, and simulate derives the few it needs that way; a stream
 *   written otherwise is read through the port, ids and all;
 * - readStream (any store): a binary search over revisions for the first candle at or after
 *   `from`, then one forward read.
 *
 * openMarketRead + MarketRead.readAll stream: each symbol's columns are allocated once at their
 * final size and filled page by page, and a callback after every page lets the kernel replay
 * what has arrived while the rest is read (see IncrementalSimulation in simulate.ts).
 *
 * Range: candles opening in [from, to). A symbol whose stream starts after `from` starts later
 * (listing dates differ); a symbol with no stream, no candle before `to`, or whose stream ends
 * before `to` (or before the last closed candle, when `to` is in the future) is missing data:
 * MissingDataError names the symbols and ranges and the commands that fetch or import them. The
 * streams' edges are read first, so missing data is known before any candle is read.
 */
import { ConfigError } from '../../domain/errors.js';
import { setCandleAt } from '../../domain/market/candle.js';
import { candleEventId } from '../../domain/market/candle-events.js';
import {
  CandleClosed,
  type CandleClosedData,
  CandleGapDetected,
  marketStream,
} from '../../domain/market/events.js';
import { type Timeframe, timeframeMs } from '../../domain/market/timeframe.js';
import type { CandleRange, EventStore } from '../../domain/ports/event-store.js';
import type { CandleBar } from '../../domain/strategies/strategy.js';
import { allocateCandleSeries, type CandleSeries, type SymbolColumns } from './candle-series.js';

export interface MarketRequest {
  readonly exchange: string;
  readonly timeframe: Timeframe;
  readonly symbols: readonly string[];
  /** open time of the first candle wanted (epoch ms) */
  readonly from: number;
  /** exclusive */
  readonly to: number;
}

export interface SymbolCoverage {
  readonly symbol: string;
  readonly stream: string;
  /** open time of the first / last candle in the whole stream; null: no candle at all */
  readonly streamFirst: number | null;
  readonly streamLast: number | null;
  /** candles read in the range */
  readonly candles: number;
  /** open times of the first and last candle read */
  readonly first: number | null;
  readonly last: number | null;
  /** recorded exchange outages (CandleGapDetected) inside the range */
  readonly gaps: number;
  readonly missingInGaps: number;
}

export interface MarketData {
  readonly series: CandleSeries;
  readonly coverage: readonly SymbolCoverage[];
  /** 'bulk' (the store's readCandleRange) or 'port' (readStream) */
  readonly via: 'bulk' | 'port';
}

export interface ReadOptions {
  /** force one way (tests compare both); default: bulk when the store has it */
  via?: 'bulk' | 'port';
  /** candles read so far (all symbols) */
  onProgress?: (candles: number) => void;
}

/** Candles of each symbol's market stream opening in [from, to), and what the streams cover. */
export async function readMarketData(
  store: EventStore,
  request: MarketRequest,
  options: ReadOptions = {},
): Promise<MarketData> {
  return (await openMarketRead(store, request, options)).readAll();
}

/** Reads the streams' edges and opens the bulk reads; no candle is read yet. */
export async function openMarketRead(
  store: EventStore,
  request: MarketRequest,
  options: ReadOptions = {},
): Promise<MarketRead> {
  const bulk = options.via !== 'port' && store.readCandleRange !== undefined;
  if (options.via === 'bulk' && !bulk) throw new Error('readMarketData: this store has no bulk candle read');
  const step = timeframeMs(request.timeframe);
  const plans = await Promise.all(
    request.symbols.map(async (symbol): Promise<SymbolPlan> => {
      const stream = marketStream(request.exchange, symbol, request.timeframe);
      // both at once: a few round trips each
      const [edges, range] = await Promise.all([
        streamEdges(store, stream),
        bulk ? store.readCandleRange!({ stream, from: request.from, to: request.to, step }) : undefined,
      ]);
      if (edges.first === null || range === undefined) return { symbol, stream, edges };
      const key = { exchange: request.exchange, symbol, timeframe: request.timeframe };
      const derived = range.edgeCandles.every((c) => c.id === candleEventId(key, c.openTime));
      return derived ? { symbol, stream, edges, range } : { symbol, stream, edges };
    }),
  );
  return new MarketRead(store, request, plans, bulk, options);
}

interface SymbolPlan {
  readonly symbol: string;
  readonly stream: string;
  readonly edges: { first: number | null; last: number | null };
  /** the bulk read; absent: read through readStream */
  readonly range?: CandleRange;
}

/**
 * One read of the market streams. `series` holds each bulk-read symbol's columns at their final
 * capacity from the start (a symbol read through the port gets its columns when its read is
 * done); readAll fills them.
 */
export class MarketRead {
  readonly series: CandleSeries;
  private readonly columns: SymbolColumns[];

  constructor(
    private readonly store: EventStore,
    readonly request: MarketRequest,
    private readonly plans: readonly SymbolPlan[],
    private readonly bulk: boolean,
    private readonly options: ReadOptions,
  ) {
    const allocated = allocateCandleSeries(
      request.exchange,
      request.timeframe,
      request.symbols,
      plans.map((p) => p.range?.maxCandles ?? 0),
    );
    this.columns = [...allocated.columns];
    this.series = { ...allocated, columns: this.columns };
  }

  /** What the range needs and the streams lack (see findMissing), known before reading. */
  missing(now: number): MissingRange[] {
    return findMissing(
      this.request,
      this.plans.map((p) => ({
        symbol: p.symbol,
        stream: p.stream,
        streamFirst: p.edges.first,
        streamLast: p.edges.last,
      })),
      now,
    );
  }

  /**
   * Reads every symbol, all at once. After each page, onCandles(filled, finished): symbol i's
   * candles [0, filled[i]) of series.columns[i] are there, and finished[i] when all are.
   */
  async readAll(onCandles?: (filled: Int32Array, finished: readonly boolean[]) => void): Promise<MarketData> {
    const k = this.plans.length;
    const filled = new Int32Array(k);
    const finished = this.plans.map(() => false);
    let total = 0;
    let failed = false;
    const progress = (n: number) => {
      total += n;
      this.options.onProgress?.(total);
    };
    const gaps = this.plans.map(() => ({ count: 0, missing: 0 }));
    const readSymbol = async (i: number) => {
      const plan = this.plans[i]!;
      if (plan.range) {
        const column = this.columns[i]!;
        for await (const page of plan.range.pages) {
          if (failed) return;
          filled[i] = appendPage(column, filled[i]!, page, plan.stream);
          for (const other of page.others)
            if (other.type === CandleGapDetected.type) countGap(other, this.request, gaps[i]!);
          progress(page.length);
          onCandles?.(filled, finished);
        }
      } else if (plan.edges.first !== null) {
        const read = await readSymbolPort(this.store, this.request, plan.symbol, progress);
        this.columns[i] = read.columns.toSymbolColumns();
        filled[i] = read.columns.length;
        gaps[i] = read.gaps;
      }
      finished[i] = true;
      onCandles?.(filled, finished);
    };
    try {
      await Promise.all(this.plans.map((_, i) => readSymbol(i)));
    } catch (error) {
      failed = true; // the other symbols stop at their next page
      throw error;
    }
    const columns = this.columns.map((c, i) => trim(c, filled[i]!));
    return {
      series: { ...this.series, columns },
      coverage: this.plans.map((p, i) => coverageOf(p, columns[i]!, gaps[i]!)),
      via: this.bulk ? 'bulk' : 'port',
    };
  }
}

/** The page's candles after the first n of the column; checks open times keep increasing. */
function appendPage(
  column: SymbolColumns,
  n: number,
  page: { length: number } & Record<'openTime' | 'open' | 'high' | 'low' | 'close' | 'volume', Float64Array>,
  stream: string,
): number {
  const m = page.length;
  if (m === 0) return n;
  if (n + m > column.openTime.length)
    throw new Error(`${stream}: the bulk read gave more candles than it announced`);
  let previous = n > 0 ? column.openTime[n - 1]! : Number.NEGATIVE_INFINITY;
  const times = page.openTime;
  for (let j = 0; j < m; j++) {
    const t = times[j]!;
    if (!(t > previous)) outOfOrder(stream, t, previous);
    previous = t;
  }
  column.openTime.set(times.subarray(0, m), n);
  column.open.set(page.open.subarray(0, m), n);
  column.high.set(page.high.subarray(0, m), n);
  column.low.set(page.low.subarray(0, m), n);
  column.close.set(page.close.subarray(0, m), n);
  column.volume.set(page.volume.subarray(0, m), n);
  return n + m;
}

function outOfOrder(stream: string, time: number, previous: number): never {
  throw new ConfigError(
    `${stream}: candle opening ${iso(time)} does not follow ${iso(previous)}`,
    'the market stream is out of order: check it with `tradekernel data gaps`',
  );
}

/** The first n candles, as views of the same memory. */
function trim(c: SymbolColumns, n: number): SymbolColumns {
  if (c.openTime.length === n) return c;
  return {
    openTime: c.openTime.subarray(0, n),
    open: c.open.subarray(0, n),
    high: c.high.subarray(0, n),
    low: c.low.subarray(0, n),
    close: c.close.subarray(0, n),
    volume: c.volume.subarray(0, n),
    ...(c.ids !== undefined ? { ids: c.ids.slice(0, n) } : {}),
  };
}

// ─── missing data ────────────────────────────────────────────────────────────────────────────

export interface MissingRange {
  readonly symbol: string;
  /** open times: [from, to) */
  readonly from: number;
  readonly to: number;
  readonly reason: string;
}

/**
 * What the range needs and the streams lack. `now`: candles opening after the last closed one
 * cannot exist yet, so `to` beyond it only asks for what has closed.
 */
export function findMissing(
  request: MarketRequest,
  coverage: readonly Pick<SymbolCoverage, 'symbol' | 'stream' | 'streamFirst' | 'streamLast'>[],
  now: number,
): MissingRange[] {
  const step = timeframeMs(request.timeframe);
  // the last candle that has closed by `now` opens at floor(now / step) * step - step
  const end = Math.min(request.to, Math.floor(now / step) * step);
  const missing: MissingRange[] = [];
  for (const c of coverage) {
    if (c.streamFirst === null || c.streamLast === null) {
      missing.push({ symbol: c.symbol, from: request.from, to: end, reason: `no stream ${c.stream}` });
      continue;
    }
    if (c.streamFirst >= request.to) {
      missing.push({
        symbol: c.symbol,
        from: request.from,
        to: request.to,
        reason: `${c.stream} starts at ${iso(c.streamFirst)}`,
      });
      continue;
    }
    if (c.streamLast + step < end) {
      missing.push({
        symbol: c.symbol,
        from: Math.max(request.from, c.streamLast + step),
        to: end,
        reason: `${c.stream} ends at ${iso(c.streamLast)}`,
      });
    }
  }
  return missing;
}

export class MissingDataError extends ConfigError {
  constructor(
    readonly request: MarketRequest,
    readonly missing: readonly MissingRange[],
  ) {
    const lines = missing.map((m) => `  ${m.symbol}: ${iso(m.from)} to ${iso(m.to)} (${m.reason})`);
    const fetch = missing.map(
      (m) =>
        `tradekernel data download --exchange ${request.exchange} --symbols ${m.symbol} --timeframe ${request.timeframe} --since ${iso(m.from)} --until ${iso(m.to)}`,
    );
    const imports = missing.map(
      (m) =>
        `tradekernel data import <file-or-directory> --exchange ${request.exchange} --symbol ${m.symbol} --timeframe ${request.timeframe}`,
    );
    super(
      `missing candles for ${missing.length} symbol(s) of ${request.exchange} ${request.timeframe}:\n${lines.join('\n')}`,
      `download them:\n    ${fetch.join('\n    ')}\n  or import files you have:\n    ${imports.join('\n    ')}`,
    );
  }
}

// ─── through the port ────────────────────────────────────────────────────────────────────────

/** A symbol's columns growing as the port's events come (the size is not known before). */
class Columns {
  length = 0;
  openTime = new Float64Array(1024);
  open = new Float64Array(1024);
  high = new Float64Array(1024);
  low = new Float64Array(1024);
  close = new Float64Array(1024);
  volume = new Float64Array(1024);
  /** the stored event ids */
  readonly ids: string[] = [];

  constructor(private readonly label: string) {}

  push(id: string, d: CandleBar): void {
    const n = this.length;
    if (n > 0 && !(d.openTime > this.openTime[n - 1]!))
      outOfOrder(this.label, d.openTime, this.openTime[n - 1]!);
    if (n === this.openTime.length) this.grow();
    setCandleAt(this, n, d);
    this.ids.push(id);
    this.length = n + 1;
  }

  toSymbolColumns(): SymbolColumns {
    const n = this.length;
    return {
      openTime: this.openTime.slice(0, n),
      open: this.open.slice(0, n),
      high: this.high.slice(0, n),
      low: this.low.slice(0, n),
      close: this.close.slice(0, n),
      volume: this.volume.slice(0, n),
      ids: this.ids,
    };
  }

  private grow(): void {
    const size = this.openTime.length * 2;
    const bigger = (a: Float64Array) => {
      const b = new Float64Array(size);
      b.set(a);
      return b;
    };
    this.openTime = bigger(this.openTime);
    this.open = bigger(this.open);
    this.high = bigger(this.high);
    this.low = bigger(this.low);
    this.close = bigger(this.close);
    this.volume = bigger(this.volume);
  }
}

async function readSymbolPort(
  store: EventStore,
  request: MarketRequest,
  symbol: string,
  progress: (n: number) => void,
): Promise<{ columns: Columns; gaps: { count: number; missing: number } }> {
  const stream = marketStream(request.exchange, symbol, request.timeframe);
  const columns = new Columns(stream);
  const gaps = { count: 0, missing: 0 };
  const step = timeframeMs(request.timeframe);
  // occurredAt increases along a market stream: a candle's is its close time, a gap's the open
  // time of the candle that ends it. Find the first event at or after from + step.
  const last = await store.streamRevision(stream);
  const keyAt = async (revision: number) => {
    for await (const e of store.readStream(stream, { fromRevision: revision, maxCount: 1 }))
      return e.metadata.occurredAt;
    return Number.POSITIVE_INFINITY;
  };
  let lo = 0;
  let hi = last + 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((await keyAt(mid)) < request.from + step) lo = mid + 1;
    else hi = mid;
  }
  let pending = 0;
  for await (const event of store.readStream(stream, { fromRevision: lo })) {
    if (event.type === CandleClosed.type) {
      const d = event.data as CandleClosedData;
      if (d.openTime >= request.to) break;
      columns.push(event.id, d);
      if (++pending === 16_384) {
        progress(pending);
        pending = 0;
      }
    } else if (event.type === CandleGapDetected.type) {
      countGap(event, request, gaps);
    }
  }
  progress(pending);
  return { columns, gaps };
}

// ─── coverage ────────────────────────────────────────────────────────────────────────────────

function coverageOf(
  plan: SymbolPlan,
  columns: SymbolColumns,
  gaps: { count: number; missing: number },
): SymbolCoverage {
  const n = columns.openTime.length;
  return {
    symbol: plan.symbol,
    stream: plan.stream,
    streamFirst: plan.edges.first,
    streamLast: plan.edges.last,
    candles: n,
    first: n > 0 ? columns.openTime[0]! : null,
    last: n > 0 ? columns.openTime[n - 1]! : null,
    gaps: gaps.count,
    missingInGaps: gaps.missing,
  };
}

/** Open times of the first and last candle of a stream (the edges of a market stream are candles). */
async function streamEdges(
  store: EventStore,
  stream: string,
): Promise<{ first: number | null; last: number | null }> {
  const edge = async (direction: 'forwards' | 'backwards') => {
    for (const maxCount of [1, Number.MAX_SAFE_INTEGER]) {
      for await (const event of store.readStream(stream, { direction, maxCount })) {
        if (event.type === CandleClosed.type) return (event.data as CandleClosedData).openTime;
      }
    }
    return null;
  };
  if ((await store.streamRevision(stream)) < 0) return { first: null, last: null };
  return { first: await edge('forwards'), last: await edge('backwards') };
}

function countGap(
  event: { readonly data: unknown },
  request: MarketRequest,
  gaps: { count: number; missing: number },
): void {
  const g = event.data as { from: number; to: number; missing: number };
  if (g.to < request.from || g.from >= request.to) return;
  const step = timeframeMs(request.timeframe);
  gaps.count++;
  gaps.missing += Math.round((Math.min(g.to, request.to - step) - Math.max(g.from, request.from)) / step) + 1;
}

function iso(ms: number): string {
  return new Date(ms).toISOString().replace('.000Z', 'Z');
}
