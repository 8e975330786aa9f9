/**
 * simulate: the in-memory core of every backtest. Candles in, through ONE TradingKernel (the
 * same kernel paper and live trading run), results out. No I/O, no clock, no randomness: the
 * same input gives the same events, trades, equity and metrics, bit for bit. The `backtest` CLI,
 * `replay verify`, walk-forward and the optimiser all call it.
 *
 *   import { simulate, candleSeriesFromCandles } from './simulate.js';
 *   const result = simulate(series, {
 *     config: defaultKernelConfig({ initialCash: 1_000, risk: riskNone(0.95) }),
 *     context: {
 *       accountId: 'bt-run1', mode: 'backtest', runId: 'run1', exchange: series.exchange,
 *       timeframe: series.timeframe, symbols: series.symbols, strategies: [builtInStrategy('ema-cross')],
 *     },
 *   }, { collect: 'none' });           // fastest: no event objects kept, no hashing
 *   result.metrics.sharpe; result.trades; result.equity.time / .equity; result.dataPoints
 *
 * Input, either:
 * - a CandleSeries (candle-series.ts: Float64Array columns per symbol, shareable between worker
 *   threads through a SharedArrayBuffer). Symbols are merged by candle close time; candles of
 *   different symbols closing at the same time go in the order of `series.symbols`. A symbol
 *   whose first candle is later than the others' simply joins later. `options.from/to` select
 *   the candles opening in [from, to) without copying.
 * - or an Iterable of input events already in event-time order (CandleClosed, MarketRulesObserved,
 *   control events...), handed to the kernel one by one, as a live loop would.
 * The series path is the fast one (no object per candle: one reused CandleClosed per symbol). Both
 * give identical output for the same candles: the kernel derives event ids from what an event
 * is about, never from the candle event's id, which only appears as causation/correlation id;
 * without `ids` in the series it is re-derived (candleEventId, the id imports give a candle).
 *
 * Options:
 * - collect: 'events' (default) returns the decision events, in order, with `decisionHash`;
 *   'hash' computes decisionHash without keeping the events; 'none' neither (optimiser speed).
 * - onProgress(done, total): called every progressEvery (default 65,536) candles, and at the end
 *   (series input only: total is known).
 *
 * decisionHash: SHA-256 (hex) over, for each decision event in order, its canonical JSON
 * (canonicalJson of { id, type, data, metadata }: sorted keys) followed by "\n", written as bytes
 * straight into the hash (CanonicalJsonHash, canonical-fast.ts: the same digest). RunCompleted
 * stores it; `replay verify` recomputes it (decisionHashOf gives the same over stored events).
 *
 * IncrementalSimulation is the same run fed while the candles are still being read (the backtest
 * replays each page from the store as it arrives); SeriesMerge is the merge both share.
 */
import type { NewEvent } from '../../domain/events/envelope.js';
import type { KernelConfig, KernelContext } from '../../domain/kernel/config.js';
import { type KernelStatus, type PositionView, TradingKernel } from '../../domain/kernel/trading-kernel.js';
import { candleEventId } from '../../domain/market/candle-events.js';
import type { CandleClosedData } from '../../domain/market/events.js';
import { timeframeMs } from '../../domain/market/timeframe.js';
import { computeMetrics, type Metrics } from '../../domain/performance/metrics.js';
import type { ClosedTrade } from '../../domain/portfolio/position.js';
import { type CandleSeries, lowerBound } from './candle-series.js';
import { CanonicalJsonHash, fastCanonicalJson } from './canonical-fast.js';

export {
  allocateCandleSeries,
  type CandleSeries,
  candleCount,
  candleSeriesFromCandles,
  candleSeriesFromEvents,
  type SymbolColumns,
  sliceCandleSeries,
  validateCandleSeries,
} from './candle-series.js';

/** What the kernel is set up with: the same two objects `new TradingKernel` takes. */
export interface SimulationSetup {
  readonly config: KernelConfig;
  readonly context: KernelContext;
}

export type Collect = 'events' | 'hash' | 'none';

export interface SimulateOptions {
  /** default 'events' */
  collect?: Collect;
  /** series input: only candles opening at or after this time (epoch ms) */
  from?: number;
  /** series input: only candles opening before this time (epoch ms, exclusive) */
  to?: number;
  onProgress?: (done: number, total: number) => void;
  progressEvery?: number;
}

export interface SimulationResult {
  /** the decision events, in order ('events' only) */
  readonly events?: NewEvent[];
  /** SHA-256 hex of the decision events ('events' and 'hash' only) */
  readonly decisionHash?: string;
  /** decision events the kernel emitted (always counted) */
  readonly decisions: number;
  /** candles the kernel handled */
  readonly dataPoints: number;
  /** equity marked to the close: one point per distinct candle close time (copies) */
  readonly equity: { readonly time: Float64Array; readonly equity: Float64Array };
  /** closed trades, in closing order */
  readonly trades: readonly ClosedTrade[];
  /** positions still open at the end (not closed: their fees count in feesPaid, their time in exposure) */
  readonly openPositions: readonly PositionView[];
  readonly metrics: Metrics;
  readonly status: KernelStatus;
  /** the kernel after the last candle (snapshot() it to continue a run elsewhere) */
  readonly kernel: TradingKernel;
}

/** The account stream of a backtest run. */
export function backtestAccount(runId: string): string {
  return `bt-${runId}`;
}

/** Runs the candles through a fresh kernel. Throws the kernel's errors (ConfigError, KernelInputError). */
export function simulate(
  input: CandleSeries | Iterable<NewEvent>,
  setup: SimulationSetup,
  options: SimulateOptions = {},
): SimulationResult {
  const kernel = new TradingKernel(setup.config, setup.context);
  const collect = options.collect ?? 'events';
  const sink = new Sink(collect);
  const dataPoints = isCandleSeries(input)
    ? replaySeries(kernel, input, setup.context, sink, options)
    : replayEvents(kernel, input, setup.context, sink);
  return finish(kernel, setup.config, sink, dataPoints);
}

export function isCandleSeries(input: unknown): input is CandleSeries {
  return typeof input === 'object' && input !== null && 'columns' in input && 'symbols' in input;
}

/** decisionHash over events as stored or re-derived (see the module comment). */
export function decisionHashOf(events: Iterable<NewEvent>): string {
  const sink = new Sink('hash');
  for (const e of events) sink.take([e]);
  return sink.digest();
}

/** The hashed form of one decision event: canonical JSON of id, type, data, metadata + "\n". */
export function decisionLine(e: NewEvent): string {
  return `${fastCanonicalJson({ id: e.id, type: e.type, data: e.data, metadata: e.metadata })}\n`;
}

// ─── internals ─────────────────────────────────────────────────────────────────────────────

class Sink {
  readonly events: NewEvent[] | null;
  readonly hash: CanonicalJsonHash | null;
  count = 0;

  constructor(readonly collect: Collect) {
    this.events = collect === 'events' ? [] : null;
    this.hash = collect === 'none' ? null : new CanonicalJsonHash();
  }

  /** true when the events are looked at (their causation ids must then be real) */
  get wanted(): boolean {
    return this.collect !== 'none';
  }

  take(out: readonly NewEvent[]): void {
    this.count += out.length;
    const hash = this.hash;
    if (hash === null) return;
    for (let i = 0; i < out.length; i++) {
      const e = out[i]!;
      // decisionLine(e), written straight into the hash: { id, type, data, metadata }'s keys
      // in canonical (sorted) order, then a newline
      if (e.data === undefined || e.id === undefined || e.metadata === undefined || e.type === undefined) {
        hash.value({ id: e.id, type: e.type, data: e.data, metadata: e.metadata });
      } else {
        hash.ascii('{"data":');
        hash.value(e.data);
        hash.ascii(',"id":');
        hash.value(e.id);
        hash.ascii(',"metadata":');
        hash.value(e.metadata);
        hash.ascii(',"type":');
        hash.value(e.type);
        hash.char(125 /* } */);
      }
      hash.char(10 /* \n */);
      this.events?.push(e);
    }
  }

  digest(): string {
    return this.hash!.digest();
  }
}

/**
 * Stands for a candle's id while the kernel runs when the series has no ids. Collecting: one per
 * candle ("\u0000<symbol index>:<candle index>"; the kernel carries a signal candle's id on to the
 * fill as correlation id), replaced by the real id in every event that names it. Not collecting:
 * one constant (nobody looks at the events).
 */
const PENDING_ID = '\u0000';

function replaySeries(
  kernel: TradingKernel,
  series: CandleSeries,
  context: KernelContext,
  sink: Sink,
  options: SimulateOptions,
): number {
  const merge = new SeriesMerge(kernel, series, context, sink, options);
  const k = series.symbols.length;
  const ends = series.columns.map((c) => c.openTime.length);
  merge.advance(ends, new Array<boolean>(k).fill(true));
  return merge.handled;
}

/**
 * The k-way merge of a series' symbols by candle close time (ties: the lower symbol index first),
 * each candle handed to the kernel. It can run while the columns are still being filled: advance()
 * replays every candle whose turn is certain — the next one of a symbol whose reader has not
 * finished is unknown, so the merge stops at a symbol with nothing left to read and resumes on the
 * next call. Fed all at once or page by page, the kernel sees the same candles in the same order.
 */
class SeriesMerge {
  handled = 0;
  private done = 0;
  private readonly step: number;
  private readonly k: number;
  /** next candle index per symbol, and where it started */
  private readonly cursor: Int32Array;
  private readonly start: Int32Array;
  /** the last index + 1 options.to allows per symbol (complete series only) */
  private readonly limit: Float64Array;
  private readonly end: Int32Array;
  /** close time of each symbol's next candle (Infinity: done) */
  private readonly next: Float64Array;
  private readonly traded: Set<string>;
  private readonly events: NewEvent<'CandleClosed', CandleClosedData>[];
  private readonly pending: boolean;
  private readonly realIds: RealIds;

  constructor(
    private readonly kernel: TradingKernel,
    private readonly series: CandleSeries,
    context: KernelContext,
    private readonly sink: Sink,
    private readonly options: SimulateOptions,
  ) {
    this.step = timeframeMs(series.timeframe);
    const k = series.symbols.length;
    this.k = k;
    this.cursor = new Int32Array(k);
    this.limit = new Float64Array(k).fill(Number.POSITIVE_INFINITY);
    this.end = new Int32Array(k);
    this.next = new Float64Array(k);
    for (let s = 0; s < k; s++) {
      const t = series.columns[s]!.openTime;
      if (options.from !== undefined) this.cursor[s] = lowerBound(t, options.from);
      if (options.to !== undefined) this.limit[s] = Math.max(this.cursor[s]!, lowerBound(t, options.to));
    }
    this.start = this.cursor.slice();
    // Symbols the kernel does not trade are skipped here (the kernel would ignore them anyway).
    this.traded = new Set(context.symbols);
    this.events = series.symbols.map(
      (symbol): NewEvent<'CandleClosed', CandleClosedData> => ({
        id: PENDING_ID,
        type: 'CandleClosed',
        data: {
          exchange: series.exchange,
          symbol,
          timeframe: series.timeframe,
          openTime: 0,
          closeTime: 0,
          open: 0,
          high: 0,
          low: 0,
          close: 0,
          volume: 0,
        },
        metadata: { occurredAt: 0, causationId: null, correlationId: null, schemaVersion: 1 },
      }),
    );
    // columns without ids get them derived; a symbol's columns may be swapped before it is read
    this.pending = sink.wanted;
    this.realIds = new RealIds(series);
  }

  /**
   * Replays what can be replayed: symbol s holds candles [0, filled[s]); finished[s] when no more
   * will come. The series' column objects are looked up anew on each call (a reader may replace
   * a symbol's columns before any of its candles was filled).
   */
  advance(filled: ArrayLike<number>, finished: ArrayLike<boolean>): void {
    const { k, cursor, end, next, step } = this;
    const cols = this.series.columns;
    let total = 0;
    for (let s = 0; s < k; s++) {
      end[s] = Math.min(filled[s]!, this.limit[s]!);
      total += end[s]! - this.start[s]!;
      if (cursor[s]! < end[s]!) next[s] = cols[s]!.openTime[cursor[s]!]! + step;
      else if (finished[s] || end[s]! >= this.limit[s]!) next[s] = Number.POSITIVE_INFINITY;
      else return; // its next candle is not read yet: it might be the earliest
    }
    const every = Math.max(1, this.options.progressEvery ?? 65_536);
    const onProgress = this.options.onProgress;
    for (;;) {
      let s = -1;
      let best = Number.POSITIVE_INFINITY;
      for (let j = 0; j < k; j++) {
        if (next[j]! < best) {
          best = next[j]!;
          s = j;
        }
      }
      if (s < 0) break;
      const col = cols[s]!;
      const i = cursor[s]!;
      cursor[s] = i + 1;
      let starved = false;
      if (i + 1 < end[s]!) next[s] = col.openTime[i + 1]! + step;
      else if (finished[s] || i + 1 >= this.limit[s]!) next[s] = Number.POSITIVE_INFINITY;
      else starved = true; // replay this candle, then wait for the symbol's next ones
      this.done++;
      if (onProgress !== undefined && this.done % every === 0) onProgress(this.done, total);
      this.replay(s, i, col, best);
      if (starved) return;
    }
    if (onProgress !== undefined) onProgress(this.done, total);
  }

  private replay(s: number, i: number, col: CandleSeries['columns'][number], closeTime: number): void {
    const event = this.events[s]!;
    const d = event.data;
    if (!this.traded.has(d.symbol)) return;
    d.openTime = col.openTime[i]!;
    d.closeTime = closeTime;
    d.open = col.open[i]!;
    d.high = col.high[i]!;
    d.low = col.low[i]!;
    d.close = col.close[i]!;
    d.volume = col.volume[i]!;
    event.metadata.occurredAt = closeTime;
    const ids = col.ids;
    const pending = this.pending && ids === undefined;
    event.id = ids !== undefined ? ids[i]! : pending ? `${PENDING_ID}${s}:${i}` : PENDING_ID;
    this.handled++;
    const out = this.kernel.handle(event);
    if (out.length === 0) return;
    if (this.pending) {
      for (let j = 0; j < out.length; j++) {
        const m = out[j]!.metadata;
        m.causationId = this.realIds.resolve(m.causationId);
        m.correlationId = this.realIds.resolve(m.correlationId);
      }
    }
    this.sink.take(out);
  }
}

/**
 * simulate fed as the candles arrive (a backtest reading its candles from the store runs the
 * kernel on each page while the next is read): the same kernel, merge and result as simulate()
 * over the complete series. `series` holds each symbol's columns at their final capacity; call
 * advance(filled, finished) as they fill, then finish(). options.from/to are not taken here.
 */
export class IncrementalSimulation {
  private readonly kernel: TradingKernel;
  private readonly sink: Sink;
  private readonly merge: SeriesMerge;

  constructor(
    series: CandleSeries,
    private readonly setup: SimulationSetup,
    options: Omit<SimulateOptions, 'from' | 'to'> = {},
  ) {
    this.kernel = new TradingKernel(setup.config, setup.context);
    this.sink = new Sink(options.collect ?? 'events');
    this.merge = new SeriesMerge(this.kernel, series, setup.context, this.sink, options);
  }

  advance(filled: ArrayLike<number>, finished: ArrayLike<boolean>): void {
    this.merge.advance(filled, finished);
  }

  /** The decision events so far (collect: 'events'; empty otherwise); they never change once here. */
  get events(): readonly NewEvent[] {
    return this.sink.events ?? [];
  }

  /** After the last advance (every symbol finished). */
  finish(): SimulationResult {
    return finish(this.kernel, this.setup.config, this.sink, this.merge.handled);
  }
}

/** The candle ids placeholders stand for (other ids unchanged); the last few remembered. */
class RealIds {
  private readonly recent = new Map<string, string>();

  constructor(private readonly series: CandleSeries) {}

  resolve(id: string | null): string | null {
    if (id === null || id.charCodeAt(0) !== 0) return id;
    let real = this.recent.get(id);
    if (real === undefined) {
      const colon = id.indexOf(':');
      const s = Number(id.slice(1, colon));
      const openTime = this.series.columns[s]!.openTime[Number(id.slice(colon + 1))]!;
      real = candleEventId(
        { exchange: this.series.exchange, symbol: this.series.symbols[s]!, timeframe: this.series.timeframe },
        openTime,
      );
      // a signal's candle names its decisions, the order and, later, the fill: keep a few
      if (this.recent.size >= 64) this.recent.delete(this.recent.keys().next().value!);
      this.recent.set(id, real);
    }
    return real;
  }
}

function replayEvents(
  kernel: TradingKernel,
  input: Iterable<NewEvent>,
  context: KernelContext,
  sink: Sink,
): number {
  const traded = new Set(context.symbols);
  let handled = 0;
  for (const event of input) {
    if (event.type === 'CandleClosed') {
      const d = event.data as CandleClosedData;
      if (d.exchange === context.exchange && d.timeframe === context.timeframe && traded.has(d.symbol))
        handled++;
    }
    const out = kernel.handle(event);
    if (out.length > 0) sink.take(out);
  }
  return handled;
}

function finish(
  kernel: TradingKernel,
  config: KernelConfig,
  sink: Sink,
  dataPoints: number,
): SimulationResult {
  const view = kernel.equityCurve();
  const equity = { time: view.time.slice(), equity: view.equity.slice() };
  const trades = kernel.closedTrades();
  const openPositions = kernel.openPositions();
  const metrics = computeMetrics({
    startEquity: config.initialCash,
    times: equity.time,
    equity: equity.equity,
    trades,
    openFees: openPositions.reduce((sum, p) => sum + p.fees, 0),
    openSince: openPositions.map((p) => p.entryTime),
  });
  return {
    ...(sink.events !== null ? { events: sink.events } : {}),
    ...(sink.hash !== null ? { decisionHash: sink.digest() } : {}),
    decisions: sink.count,
    dataPoints,
    equity,
    trades,
    openPositions,
    metrics,
    status: kernel.status(),
    kernel,
  };
}
