import { randomUUID } from 'node:crypto';
import { ConfigError, TradekernelError } from '../domain/errors.js';
import type { MarketKey } from '../domain/market/candle.js';
import { marketStreamOf } from '../domain/market/candle-events.js';
import { InvalidCandlesError } from '../domain/market/candle-issue.js';
import { splitUnclosedCandles } from '../domain/market/closed-candles.js';
import type { ObservedMarketRules } from '../domain/market/market-rules.js';
import { alignTime, type Timeframe, timeframeMs } from '../domain/market/timeframe.js';
import { validateCandles } from '../domain/market/validate.js';
import type { CandleSource } from '../domain/ports/candle-source.js';
import type { EventStore } from '../domain/ports/event-store.js';
import { AppendPipeline } from './append-pipeline.js';
import { type ErrorReport, errorReport, type GapReport, gapReport, isoTime } from './market-report.js';
import { recordMarketRules } from './market-rules-recorder.js';
import { MarketStreamWriter, type SourceCandle } from './market-stream-writer.js';

/**
 * The `data download` use case: history from an exchange (a CandleSource) into market streams,
 * through the same writer as file imports (same validation, event ids, gap events, conflict
 * checks). Per symbol:
 * - starts at `since`, or right after the last stored candle when the stream has candles: a
 *   stream stays contiguous, so a later `since` does not leave a hole that would be recorded
 *   as a gap the exchange never had, and an earlier one cannot insert before stored candles;
 * - pages forwards with the source's page size until `until`, the present, or an empty page;
 * - drops candles that are still open at `now` (the exchange serves the forming candle);
 * - stores every page as it arrives, so an interrupted download resumes where it stopped;
 * - observes the market's trading rules (when the source gives them) and records a
 *   MarketRulesObserved event in the market's rules stream when they changed.
 */

export interface DownloadOptions {
  symbols: readonly string[];
  timeframe: Timeframe;
  /** epoch ms; required for a symbol with nothing stored yet */
  since?: number;
  /** epoch ms, exclusive: candles opening before it */
  until?: number;
  /** candles per request (default: the source's maximum) */
  pageSize?: number;
  /** the clock that decides which candles are closed (default Date.now) */
  now?: () => number;
  correlationId?: string;
  onProgress?: (progress: { symbol: string; fetched: number; expected: number }) => void;
}

export type DownloadStatus = 'downloaded' | 'failed' | 'not_downloaded';

export interface DownloadMarketReport {
  exchange: string;
  symbol: string;
  timeframe: string;
  stream: string;
  status: DownloadStatus;
  /** open time the download started at */
  from: string | null;
  /** true when it started right after the last stored candle rather than at --since */
  resumed: boolean;
  requests: number;
  /** closed candles received in the requested range */
  fetched: number;
  new: number;
  present: number;
  /** candles still open when fetched, not stored */
  droppedOpen: number;
  gaps: GapReport[];
  /** open times of the first and last candle stored by this download */
  first: string | null;
  last: string | null;
  /**
   * the market's trading rules as observed by this download; `recorded`: a MarketRulesObserved
   * event was appended (first observation, or they changed). null: not observed (the source
   * does not publish them as steps, or the download failed before).
   */
  rules: (ObservedMarketRules & { recorded: boolean }) | null;
}

export interface DownloadReport {
  exchange: string;
  timeframe: string;
  correlationId: string;
  markets: DownloadMarketReport[];
  totals: {
    requests: number;
    fetched: number;
    new: number;
    present: number;
    gaps: number;
    missing: number;
    /** MarketRulesObserved events appended */
    rulesRecorded: number;
  };
  error: (ErrorReport & { symbol: string | null }) | null;
}

export async function downloadCandles(
  store: EventStore,
  source: CandleSource,
  options: DownloadOptions,
): Promise<DownloadReport> {
  const { timeframe } = options;
  const step = timeframeMs(timeframe);
  const now = options.now ?? Date.now;
  const correlationId = options.correlationId ?? randomUUID();
  const pageSize = Math.max(1, Math.min(options.pageSize ?? source.maxPageSize, source.maxPageSize));
  const pipeline = new AppendPipeline();
  const markets: DownloadMarketReport[] = options.symbols.map((symbol) => ({
    exchange: source.exchange,
    symbol,
    timeframe,
    stream: marketStreamOf({ exchange: source.exchange, symbol, timeframe }),
    status: 'not_downloaded',
    from: null,
    resumed: false,
    requests: 0,
    fetched: 0,
    new: 0,
    present: 0,
    droppedOpen: 0,
    gaps: [],
    first: null,
    last: null,
    rules: null,
  }));

  let error: DownloadReport['error'] = null;
  for (const report of markets) {
    const key: MarketKey = { exchange: source.exchange, symbol: report.symbol, timeframe };
    let writer: MarketStreamWriter | undefined;
    try {
      writer = await MarketStreamWriter.open(store, key, pipeline, { context: { correlationId } });
      const stored = writer.lastCandleOpenTime;
      let cursor: number;
      if (stored !== undefined) {
        cursor = stored + step;
        report.resumed = true;
      } else if (options.since !== undefined) {
        cursor = alignUp(options.since, timeframe);
      } else {
        throw new ConfigError(
          `--since is needed for ${report.symbol}: nothing of ${report.stream} is stored yet`,
          'pass the first day to download, e.g. --since 2024-01-01',
        );
      }
      report.from = isoTime(cursor);
      const until = options.until ?? Number.POSITIVE_INFINITY;
      const expected = () => Math.max(0, Math.ceil((Math.min(until, now()) - cursor) / step));
      const total = report.fetched + expected();

      while (cursor < until && cursor + step <= now()) {
        const page = await source.fetchCandles(report.symbol, timeframe, cursor, pageSize);
        report.requests++;
        const inRange = page.filter((candle) => candle.openTime >= cursor && candle.openTime < until);
        const { closed, unclosed } = splitUnclosedCandles(inRange, timeframe, now());
        report.droppedOpen += unclosed.length;
        if (closed.length === 0) break;
        const rows = closed.map((candle, index) => ({ ...candle, line: index + 1, row: index + 1 }));
        const label = `${source.exchange} ${report.symbol} ${timeframe} candles from ${isoTime(cursor)}`;
        const issues = validateCandles(rows, timeframe);
        if (issues.length > 0) throw new InvalidCandlesError(label, issues);
        const result = await writer.add(rows as SourceCandle[], { source: label });
        await writer.flush();
        report.fetched += closed.length;
        report.new += result.added;
        report.present += result.present;
        for (const gap of result.gaps) report.gaps.push(gapReport(gap));
        if (result.added > 0) {
          report.first ??= isoTime(rows[rows.length - result.added]!.openTime);
          report.last = isoTime(rows[rows.length - 1]!.openTime);
        }
        options.onProgress?.({
          symbol: report.symbol,
          fetched: report.fetched,
          expected: Math.max(total, report.fetched),
        });
        const next = closed[closed.length - 1]!.openTime + step;
        // The forming candle came back: this is the present. No progress: stop rather than loop.
        if (unclosed.length > 0 || next <= cursor) break;
        cursor = next;
      }
      // After the candles: the markets are loaded by then (no extra request), and an unknown
      // symbol or an unreachable exchange has already been reported as such.
      if (source.marketRules) {
        const rules = await source.marketRules(report.symbol);
        if (rules !== null) {
          const market = { exchange: source.exchange, symbol: report.symbol };
          const { recorded } = await recordMarketRules(store, market, rules, now(), { correlationId });
          report.rules = { ...rules, recorded };
        }
      }
      report.status = 'downloaded';
    } catch (caught) {
      if (!(caught instanceof TradekernelError)) throw caught;
      // Pages stored before the failure stay stored: a re-run resumes after them.
      await writer?.flush().catch(() => {});
      report.status = 'failed';
      error = { ...errorReport(caught), symbol: report.symbol };
      break;
    }
  }
  return { exchange: source.exchange, timeframe, correlationId, markets, totals: totalsOf(markets), error };
}

function alignUp(time: number, timeframe: Timeframe): number {
  const aligned = alignTime(time, timeframe);
  return aligned === time ? time : aligned + timeframeMs(timeframe);
}

function totalsOf(markets: readonly DownloadMarketReport[]): DownloadReport['totals'] {
  const totals = { requests: 0, fetched: 0, new: 0, present: 0, gaps: 0, missing: 0, rulesRecorded: 0 };
  for (const market of markets) {
    totals.requests += market.requests;
    totals.fetched += market.fetched;
    totals.new += market.new;
    totals.present += market.present;
    totals.gaps += market.gaps.length;
    totals.missing += market.gaps.reduce((sum, gap) => sum + gap.missing, 0);
    if (market.rules?.recorded) totals.rulesRecorded++;
  }
  return totals;
}
