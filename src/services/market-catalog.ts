import {
  CandleClosed,
  type CandleClosedData,
  CandleGapDetected,
  type CandleGapDetectedData,
  marketStream,
} from '../domain/market/events.js';
import { TIMEFRAMES } from '../domain/market/timeframe.js';
import type { EventStore } from '../domain/ports/event-store.js';
import { compareTimeframes, type GapReport, gapReport, isoOrNull } from './market-report.js';
import { edgeCandleTime } from './market-stream-writer.js';

/**
 * What the log holds of each market, computed from the market streams themselves (no separate
 * index that could drift): `data list` and `data gaps`.
 */

export interface MarketSummary {
  exchange: string;
  symbol: string;
  timeframe: string;
  stream: string;
  /** open time of the first and last stored candle */
  first: string | null;
  last: string | null;
  candles: number;
  /** CandleGapDetected events */
  gaps: number;
  /** candles missing in those gaps */
  missing: number;
}

export interface MarketGaps extends MarketSummary {
  gapList: GapReport[];
}

interface Tally {
  exchange: string;
  symbol: string;
  timeframe: string;
  stream: string;
  first: number | null;
  last: number | null;
  candles: number;
  gaps: number;
  missing: number;
}

const MARKET_PREFIX = 'market-';

/**
 * Every market stream with its range and counts: one pass over the market events in global
 * order (a server-side filter on the stream prefix and the two event types).
 */
export async function listMarkets(store: EventStore): Promise<MarketSummary[]> {
  const tallies = new Map<string, Tally>();
  const events = store.readAll({
    filter: { streamPrefixes: [MARKET_PREFIX], types: [CandleClosed.type, CandleGapDetected.type] },
    pageSize: 10_000,
  });
  for await (const event of events) {
    let tally = tallies.get(event.stream);
    if (!tally) {
      const data = event.data as CandleClosedData | CandleGapDetectedData;
      tally = {
        exchange: data.exchange,
        symbol: data.symbol,
        timeframe: data.timeframe,
        stream: event.stream,
        first: null,
        last: null,
        candles: 0,
        gaps: 0,
        missing: 0,
      };
      tallies.set(event.stream, tally);
    }
    if (event.type === CandleClosed.type) {
      const openTime = (event.data as CandleClosedData).openTime;
      tally.candles++;
      if (tally.first === null || openTime < tally.first) tally.first = openTime;
      if (tally.last === null || openTime > tally.last) tally.last = openTime;
    } else {
      tally.gaps++;
      tally.missing += (event.data as CandleGapDetectedData).missing;
    }
  }
  return [...tallies.values()].sort(compareMarkets).map(summary);
}

export interface GapsQuery {
  exchange: string;
  symbol: string;
  /** all stored timeframes of the symbol when absent */
  timeframe?: string;
}

/**
 * The gaps of one symbol (one timeframe, or every stored one), oldest first. Reads only the
 * gap events of the streams concerned, and each stream's first and last candle.
 */
export async function listGaps(store: EventStore, query: GapsQuery): Promise<MarketGaps[]> {
  const timeframes = query.timeframe ? [query.timeframe] : Object.keys(TIMEFRAMES);
  const streams = new Map<string, { timeframe: string; revision: number }>();
  for (const timeframe of timeframes) {
    const stream = marketStream(query.exchange, query.symbol, timeframe);
    const revision = await store.streamRevision(stream);
    if (revision >= 0) streams.set(stream, { timeframe, revision });
  }
  if (streams.size === 0) return [];

  const gapsByStream = new Map<string, CandleGapDetectedData[]>();
  const gapEvents = store.readAll({
    filter: { streamPrefixes: [...streams.keys()], types: [CandleGapDetected.type] },
    pageSize: 10_000,
  });
  for await (const event of gapEvents) {
    if (!streams.has(event.stream)) continue;
    const list = gapsByStream.get(event.stream) ?? [];
    list.push(event.data as CandleGapDetectedData);
    gapsByStream.set(event.stream, list);
  }

  const result: MarketGaps[] = [];
  for (const [stream, { timeframe, revision }] of streams) {
    const gaps = (gapsByStream.get(stream) ?? []).sort((a, b) => a.from - b.from);
    const first = await edgeCandleTime(store, stream, 'forwards');
    const last = await edgeCandleTime(store, stream, 'backwards');
    const missing = gaps.reduce((sum, gap) => sum + gap.missing, 0);
    result.push({
      exchange: query.exchange,
      symbol: query.symbol,
      timeframe,
      stream,
      first: isoOrNull(first),
      last: isoOrNull(last),
      // Market streams hold candles and gaps only: the rest of the revisions are candles.
      candles: revision + 1 - gaps.length,
      gaps: gaps.length,
      missing,
      gapList: gaps.map((gap) => gapReport(gap)),
    });
  }
  return result.sort((a, b) => compareTimeframes(a.timeframe, b.timeframe));
}

function compareMarkets(a: Tally, b: Tally): number {
  return (
    a.exchange.localeCompare(b.exchange) ||
    a.symbol.localeCompare(b.symbol) ||
    compareTimeframes(a.timeframe, b.timeframe)
  );
}

function summary(tally: Tally): MarketSummary {
  return {
    exchange: tally.exchange,
    symbol: tally.symbol,
    timeframe: tally.timeframe,
    stream: tally.stream,
    first: isoOrNull(tally.first),
    last: isoOrNull(tally.last),
    candles: tally.candles,
    gaps: tally.gaps,
    missing: tally.missing,
  };
}
