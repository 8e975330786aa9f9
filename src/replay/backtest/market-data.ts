/**
 * Reading a backtest's candles from the market streams (`market-<exchange>-<BASE_QUOTE>-<tf>`)
 * into a CandleSeries, and finding out what is missing.
 *
 * Two ways to read the same events, giving the same series (test/replay/market-data.test.ts):
 * - through the EventStore port (any store, EventStoreDB included): a binary search over
 *   revisions for the first candle at or after `from`, then readStream;
 * - the fast path on the SQL stores (PGlite and PostgreSQL, when the CLI's SqlDatabase holds the
 *   event log): the candle events' ids and data only, straight from eventlog.events, in windows
 *   of time read ahead while the previous window is decoded (COPY on a server). It knows the
 *   store's table layout (src/adapters/event-store/postgres-schema.ts) and nothing else; it reads,
 *   never writes.
 *
 * Range: candles opening in [from, to). A symbol whose stream starts after `from` starts later
 * (listing dates differ); a symbol with no stream, no candle before `to`, or whose stream ends
 * before `to` (or before the last closed candle, when `to` is in the future) is missing data:
 * MissingDataError names the symbols and ranges and the commands that fetch or import them.
 */
import { sql } from 'kysely';
import type pg from 'pg';
import { copyOut } from '../../adapters/sql/copy.js';
import { ConfigError } from '../../domain/errors.js';
import type { RecordedEvent } from '../../domain/events/envelope.js';
import { candleEventId } from '../../domain/market/candle-events.js';
import {
  CandleClosed,
  type CandleClosedData,
  CandleGapDetected,
  marketStream,
} from '../../domain/market/events.js';
import { type Timeframe, timeframeMs } from '../../domain/market/timeframe.js';
import type { EventStore } from '../../domain/ports/event-store.js';
import type { CandleBar } from '../../domain/strategies/strategy.js';
import { allocateCandleSeries, type CandleSeries } from './candle-series.js';

export interface MarketRequest {
  readonly exchange: string;
  readonly timeframe: Timeframe;
  readonly symbols: readonly string[];
  /** open time of the first candle wanted (epoch ms) */
  readonly from: number;
  /** exclusive */
  readonly to: number;
}

/** The SQL database holding the event log, for the fast path (structurally the adapter's SqlDatabase). */
export interface EventLogDatabase {
  readonly kind: 'pglite' | 'postgres';
  // biome-ignore lint/suspicious/noExplicitAny: kysely handle of the adapter
  readonly db: any;
  readonly connect?: () => Promise<{
    query: (...args: never[]) => unknown;
    release: (error?: Error | boolean) => void;
  }>;
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
  /** 'sql' (fast path) or 'port' */
  readonly via: 'sql' | 'port';
}

export interface ReadOptions {
  /** the event log's SQL database (enables the fast path when the store is pglite/postgres) */
  database?: EventLogDatabase;
  /** force the port (tests compare both) */
  via?: 'sql' | 'port';
  /** candles read so far (all symbols) */
  onProgress?: (candles: number) => void;
}

/** Candles of each symbol's market stream opening in [from, to), and what the streams cover. */
export async function readMarketData(
  store: EventStore,
  request: MarketRequest,
  options: ReadOptions = {},
): Promise<MarketData> {
  const useSql =
    options.via !== 'port' &&
    options.database !== undefined &&
    store.kind !== 'esdb' &&
    options.database.kind === store.kind;
  if (options.via === 'sql' && !useSql) throw new Error('readMarketData: the SQL path needs the SQL store');
  let total = 0;
  const progress = (n: number) => {
    total += n;
    options.onProgress?.(total);
  };
  const perSymbol = await Promise.all(
    request.symbols.map((symbol) =>
      useSql
        ? readSymbolSql(options.database!, store, request, symbol, progress)
        : readSymbolPort(store, request, symbol, progress),
    ),
  );
  const series = allocateCandleSeries(
    request.exchange,
    request.timeframe,
    request.symbols,
    perSymbol.map((p) => p.columns.length),
  );
  perSymbol.forEach((p, i) => {
    const col = series.columns[i]!;
    const n = p.columns.length;
    col.openTime.set(p.columns.openTime.subarray(0, n));
    col.open.set(p.columns.open.subarray(0, n));
    col.high.set(p.columns.high.subarray(0, n));
    col.low.set(p.columns.low.subarray(0, n));
    col.close.set(p.columns.close.subarray(0, n));
    col.volume.set(p.columns.volume.subarray(0, n));
  });
  return {
    series: {
      ...series,
      columns: series.columns.map((c, i) => {
        const ids = perSymbol[i]!.columns.ids;
        return ids !== undefined ? { ...c, ids } : c;
      }),
    },
    coverage: perSymbol.map((p) => p.coverage),
    via: useSql ? 'sql' : 'port',
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
  coverage: readonly SymbolCoverage[],
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

// ─── columns being filled ────────────────────────────────────────────────────────────────────

class Columns {
  length = 0;
  openTime = new Float64Array(1024);
  open = new Float64Array(1024);
  high = new Float64Array(1024);
  low = new Float64Array(1024);
  close = new Float64Array(1024);
  volume = new Float64Array(1024);
  /** the stored event ids (port path); the SQL path leaves them out (see readSymbolSql) */
  ids: string[] | undefined = [];

  constructor(private readonly label: string) {}

  push(id: string | null, d: CandleBar): void {
    this.add(d.openTime, d.open, d.high, d.low, d.close, d.volume);
    if (id !== null) this.ids?.push(id);
  }

  add(openTime: number, open: number, high: number, low: number, close: number, volume: number): void {
    const n = this.length;
    if (n > 0 && !(openTime > this.openTime[n - 1]!)) {
      throw new ConfigError(
        `${this.label}: candle opening ${iso(openTime)} does not follow ${iso(this.openTime[n - 1]!)}`,
        'the market stream is out of order: check it with `tradekernel data gaps`',
      );
    }
    if (n === this.openTime.length) this.grow();
    this.openTime[n] = openTime;
    this.open[n] = open;
    this.high[n] = high;
    this.low[n] = low;
    this.close[n] = close;
    this.volume[n] = volume;
    this.length = n + 1;
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

interface SymbolRead {
  columns: Columns;
  coverage: SymbolCoverage;
}

function coverageOf(
  symbol: string,
  stream: string,
  edges: { first: number | null; last: number | null },
  columns: Columns,
  gaps: { count: number; missing: number },
): SymbolCoverage {
  const n = columns.length;
  return {
    symbol,
    stream,
    streamFirst: edges.first,
    streamLast: edges.last,
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

// ─── through the port ────────────────────────────────────────────────────────────────────────

async function readSymbolPort(
  store: EventStore,
  request: MarketRequest,
  symbol: string,
  progress: (n: number) => void,
): Promise<SymbolRead> {
  const stream = marketStream(request.exchange, symbol, request.timeframe);
  const columns = new Columns(stream);
  const gaps = { count: 0, missing: 0 };
  const edges = await streamEdges(store, stream);
  if (edges.first === null) return { columns, coverage: coverageOf(symbol, stream, edges, columns, gaps) };
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
  return { columns, coverage: coverageOf(symbol, stream, edges, columns, gaps) };
}

function countGap(
  event: Pick<RecordedEvent, 'data'>,
  request: MarketRequest,
  gaps: { count: number; missing: number },
): void {
  const g = event.data as { from: number; to: number; missing: number };
  if (g.to < request.from || g.from >= request.to) return;
  const step = timeframeMs(request.timeframe);
  gaps.count++;
  gaps.missing += Math.round((Math.min(g.to, request.to - step) - Math.max(g.from, request.from)) / step) + 1;
}

// ─── the SQL fast path ───────────────────────────────────────────────────────────────────────

/** Events per window: each window is one query, read while the one before is decoded. */
const WINDOW_EVENTS = 32_768;
/** Revisions read below and above the guessed start and end of the range (see firstAtOrAfter). */
const GUESS_BELOW = 2_048;
const GUESS_ABOVE = 16;
/** Windows requested ahead of the one being decoded. */
const READ_AHEAD = 2;

async function readSymbolSql(
  database: EventLogDatabase,
  store: EventStore,
  range: MarketRequest,
  symbol: string,
  progress: (n: number) => void,
): Promise<SymbolRead> {
  const stream = marketStream(range.exchange, symbol, range.timeframe);
  const columns = new Columns(stream);
  columns.ids = undefined;
  const gaps = { count: 0, missing: 0 };
  const edges = await streamEdges(store, stream);
  if (edges.first === null) return { columns, coverage: coverageOf(symbol, stream, edges, columns, gaps) };
  const step = timeframeMs(range.timeframe);
  const key = { exchange: range.exchange, symbol, timeframe: range.timeframe };
  // Revisions [a, b) of the events with occurredAt in [from + step, to + step): the candles
  // opening in [from, to) and the gaps they end. Point lookups on the (stream, revision) index.
  const revisions = await store.streamRevision(stream);
  const keyAt = async (revision: number): Promise<number> => {
    const { rows } = await sql
      .raw<{ t: number | string }>(
        `select occurred_at as t from eventlog.events where stream_id = ${literal(stream)} and revision = ${revision}`,
      )
      .execute(database.db);
    return rows[0] === undefined ? Number.POSITIVE_INFINITY : Number(rows[0].t);
  };
  // Where the revision would be without outages (each missing candle moves it down by one, each
  // recorded outage up by one): read the keys around that guess in one query, and fall back to
  // a binary search, narrowed by what it showed, only when the answer lies outside.
  const firstAtOrAfter = async (time: number): Promise<number> => {
    if (time <= edges.first! + step) return 0;
    if (time > edges.last! + step) return revisions + 1;
    const guess = Math.min(revisions, Math.max(0, Math.round((time - step - edges.first!) / step)));
    const { rows } = await sql
      .raw<{ r: number | string; t: number | string }>(
        `select revision as r, occurred_at as t from eventlog.events where stream_id = ${literal(stream)}
          and revision between ${Math.max(0, guess - GUESS_BELOW)} and ${guess + GUESS_ABOVE} order by revision`,
      )
      .execute(database.db);
    let lo = 0;
    let hi = revisions + 1;
    for (const row of rows) {
      if (Number(row.t) >= time) {
        hi = Number(row.r);
        break;
      }
      lo = Number(row.r) + 1;
    }
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((await keyAt(mid)) < time) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  const a = await firstAtOrAfter(range.from + step);
  const b = await firstAtOrAfter(range.to + step);
  // An outage that starts in the range and ends after it is recorded right after the range's
  // last event, at revision b: count it too.
  const after = await fetchText(database, `stream_id = ${literal(stream)} and revision = ${b}`);
  decodeLines(after, database.kind === 'postgres', new Columns(stream), (type, data) => {
    if (type === CandleGapDetected.type) countGap({ data }, range, gaps);
  });
  // The ids are not read: every writer of market streams (import, download) names a candle
  // candleEventId(market, openTime), and simulate derives the ids of the few candles that cause
  // decisions that way. Checked on the range's edge candles; a stream written otherwise is read
  // through the port, ids and all.
  if (!(await idsAreDerived(database, stream, key, [a, b - 1])))
    return readSymbolPort(store, range, symbol, progress);
  const fetchWindow = (w: number) =>
    fetchText(
      database,
      `stream_id = ${literal(stream)} and revision >= ${w} and revision < ${Math.min(b, w + WINDOW_EVENTS)}`,
    );
  // Read ahead: the next READ_AHEAD windows are on their way while one is decoded.
  const queue: Promise<string>[] = [];
  let requested = a;
  const requestMore = () => {
    while (queue.length < READ_AHEAD && requested < b) {
      const p = fetchWindow(requested);
      p.catch(() => {}); // awaited in turn; a failure surfaces there
      queue.push(p);
      requested += WINDOW_EVENTS;
    }
  };
  requestMore();
  while (queue.length > 0) {
    const text = await queue.shift()!;
    requestMore();
    const n = decodeLines(text, database.kind === 'postgres', columns, (type, data) => {
      if (type === CandleGapDetected.type) countGap({ data }, range, gaps);
    });
    progress(n);
  }
  return { columns, coverage: coverageOf(symbol, stream, edges, columns, gaps) };
}

/**
 * `id \t data` lines of the events matching `where`, in revision order: by COPY on a server, as
 * one aggregated text on PGlite (no COPY TO STDOUT there).
 */
async function fetchText(database: EventLogDatabase, where: string): Promise<string> {
  if (database.kind === 'postgres' && database.connect) {
    const client = await database.connect();
    try {
      return await copyOut(
        client as unknown as pg.ClientBase,
        `copy (select type, data from eventlog.events where ${where} order by revision) to stdout`,
      );
    } finally {
      client.release();
    }
  }
  const { rows } = await sql
    .raw<{ page: string | null }>(
      `select string_agg(type || E'\\t' || data, E'\\n' order by revision) as page
       from eventlog.events where ${where}`,
    )
    .execute(database.db);
  return rows[0]?.page ?? '';
}

/**
 * `type \t data` lines. Candles go into the columns: their six numbers are cut out of the JSON
 * text where JSON.stringify put them (Number() of the same digits gives the same double as
 * JSON.parse), falling back to JSON.parse for any other layout. Other events go to `other`.
 */
function decodeLines(
  text: string,
  copyText: boolean,
  columns: Columns,
  other: (type: string, data: unknown) => void,
): number {
  let n = 0;
  // COPY escapes backslashes; a page without any needs no unescaping (candles never have one)
  const escaped = copyText && text.includes('\\');
  for (let i = 0; i < text.length; ) {
    let end = text.indexOf('\n', i);
    if (end < 0) end = text.length;
    const tab = text.indexOf('\t', i);
    n++;
    if (text.startsWith(CANDLE_PREFIX, i) && !escaped) {
      if (!scanCandle(text, tab + 1, end, columns)) columns.push(null, JSON.parse(text.slice(tab + 1, end)));
    } else {
      let json = text.slice(tab + 1, end);
      if (escaped) json = unescapeCopy(json);
      const type = text.slice(i, tab);
      if (type === CandleClosed.type) columns.push(null, JSON.parse(json) as CandleClosedData);
      else other(type, JSON.parse(json));
    }
    i = end + 1;
  }
  return n;
}

const CANDLE_PREFIX = `${CandleClosed.type}\t`;
const KEYS = ['"openTime":', '"open":', '"high":', '"low":', '"close":', '"volume":'];
const values = new Float64Array(6);

/** The six numbers of a CandleClosed's JSON, in JSON.stringify's key order; false: another layout. */
function scanCandle(text: string, from: number, to: number, columns: Columns): boolean {
  let at = from;
  for (let k = 0; k < 6; k++) {
    const key = KEYS[k]!;
    const found = text.indexOf(key, at);
    if (found < 0 || found >= to) return false;
    const start = found + key.length;
    let stop = start;
    for (;;) {
      const c = text.charCodeAt(stop);
      if (c === 44 /* , */ || c === 125 /* } */ || stop >= to) break;
      stop++;
    }
    const value = Number(text.slice(start, stop));
    if (stop === start || !Number.isFinite(value)) return false;
    values[k] = value;
    at = stop;
  }
  columns.add(values[0]!, values[1]!, values[2]!, values[3]!, values[4]!, values[5]!);
  return true;
}

/** true when the stored ids at these revisions are the ids candleEventId gives their candles. */
async function idsAreDerived(
  database: EventLogDatabase,
  stream: string,
  key: { exchange: string; symbol: string; timeframe: Timeframe },
  revisions: number[],
): Promise<boolean> {
  const { rows } = await sql
    .raw<{ id: string; type: string; data: string }>(
      `select id::text as id, type, data from eventlog.events where stream_id = ${literal(stream)}
        and revision in (${revisions.filter((r) => r >= 0).join(',') || '-1'})`,
    )
    .execute(database.db);
  for (const row of rows) {
    if (row.type !== CandleClosed.type) continue;
    const data = JSON.parse(row.data) as CandleClosedData;
    if (row.id !== candleEventId(key, data.openTime)) return false;
  }
  return true;
}

/** PostgreSQL COPY text format: backslash escapes. */
function unescapeCopy(value: string): string {
  return value.replace(/\\(.)/g, (_, c: string) =>
    c === 'n'
      ? '\n'
      : c === 't'
        ? '\t'
        : c === 'r'
          ? '\r'
          : c === 'b'
            ? '\b'
            : c === 'f'
              ? '\f'
              : c === 'v'
                ? '\v'
                : c,
  );
}

function literal(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

function iso(ms: number): string {
  return new Date(ms).toISOString().replace('.000Z', 'Z');
}
