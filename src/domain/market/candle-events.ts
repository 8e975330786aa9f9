import { type EventContext, newEvent } from '../events/catalogue.js';
import type { NewEvent, RecordedEvent } from '../events/envelope.js';
import { deterministicId, deterministicIdOfName, NAME_SEPARATOR } from '../events/ids.js';
import type { Candle, MarketKey } from './candle.js';
import {
  CandleClosed,
  type CandleClosedData,
  CandleGapDetected,
  type CandleGapDetectedData,
  marketStream,
} from './events.js';
import type { CandleGap } from './gaps.js';
import { timeframeMs } from './timeframe.js';

/**
 * Turning candles and gaps into the events of a market stream, deterministically: the same
 * candle of the same market always becomes the same event id, whichever file or download it
 * came from and whenever it was imported, so importing it again is recognised as a repeat.
 *
 * Order in the stream: strictly increasing time. A gap event sits right before the candle that
 * ends it. Every event's `occurredAt` is the moment the fact became known in market time:
 * - CandleClosed: its close time (openTime + timeframe, exclusive);
 * - CandleGapDetected: the close time of the last missing candle (to + timeframe), the open time
 *   of the candle that ends the gap.
 * occurredAt therefore strictly increases along a market stream, which makes it the key to
 * search a stream by time (see streamTimeKey).
 */

export function marketStreamOf(key: MarketKey): string {
  return marketStream(key.exchange, key.symbol, key.timeframe);
}

/** The id of a market's candle: a function of exchange, symbol, timeframe and open time only. */
export function candleEventId(key: MarketKey, openTime: number): string {
  return deterministicId(openTime, key.exchange, key.symbol, key.timeframe, openTime);
}

/**
 * candleEventId for many candles of one market: the market part of the name is joined once
 * (same ids, cheaper; an import names every candle).
 */
export function candleEventIds(key: MarketKey): (openTime: number) => string {
  const prefix = [key.exchange, key.symbol, key.timeframe, ''].join(NAME_SEPARATOR);
  return (openTime) => deterministicIdOfName(openTime, prefix + openTime);
}

/** The id of a gap: a function of the market and the missing range only. */
export function gapEventId(key: MarketKey, gap: CandleGap): string {
  return deterministicId(
    gap.from,
    'CandleGapDetected',
    key.exchange,
    key.symbol,
    key.timeframe,
    gap.from,
    gap.to,
  );
}

/** Context of the events of one import or download run (never part of an id). */
export type MarketEventContext = Omit<EventContext, 'occurredAt'>;

export function candleClosedEvent(
  key: MarketKey,
  candle: Candle,
  context: MarketEventContext = {},
): NewEvent<'CandleClosed', CandleClosedData> {
  return buildCandleClosed(key, timeframeMs(key.timeframe), candle, { ...context, occurredAt: 0 });
}

/** `context` is reused: its occurredAt is overwritten (one object per batch, not per candle). */
function buildCandleClosed(
  key: MarketKey,
  step: number,
  candle: Candle & { id?: string },
  context: EventContext,
): NewEvent<'CandleClosed', CandleClosedData> {
  const closeTime = candle.openTime + step;
  context.occurredAt = closeTime;
  return newEvent(
    CandleClosed,
    candle.id ?? candleEventId(key, candle.openTime),
    {
      exchange: key.exchange,
      symbol: key.symbol,
      timeframe: key.timeframe,
      openTime: candle.openTime,
      closeTime,
      open: candle.open,
      high: candle.high,
      low: candle.low,
      close: candle.close,
      volume: candle.volume,
    },
    context,
  );
}

export function candleGapEvent(
  key: MarketKey,
  gap: CandleGap,
  context: MarketEventContext = {},
): NewEvent<'CandleGapDetected', CandleGapDetectedData> {
  return newEvent(
    CandleGapDetected,
    gapEventId(key, gap),
    {
      exchange: key.exchange,
      symbol: key.symbol,
      timeframe: key.timeframe,
      from: gap.from,
      to: gap.to,
      missing: gap.missing,
    },
    { ...context, occurredAt: gap.to + timeframeMs(key.timeframe) },
  );
}

/**
 * The events for candles that extend a stream, in stream order: each gap (from findGaps, in
 * order) right before the candle that ends it. Candles must be strictly increasing and every
 * gap must end right before one of them. A candle's `id`, when given, must be
 * candleEventId(key, openTime) (derived ahead, e.g. on another thread).
 */
export function candleStreamEvents(
  key: MarketKey,
  candles: readonly (Candle & { id?: string })[],
  gaps: readonly CandleGap[],
  context: MarketEventContext = {},
): NewEvent[] {
  const step = timeframeMs(key.timeframe);
  const events: NewEvent[] = new Array(candles.length + gaps.length);
  const shared: EventContext = { ...context, occurredAt: 0 };
  let nextGap = 0;
  let n = 0;
  for (const candle of candles) {
    const gap = gaps[nextGap];
    if (gap !== undefined && gap.to + step === candle.openTime) {
      events[n++] = candleGapEvent(key, gap, context);
      nextGap++;
    }
    events[n++] = buildCandleClosed(key, step, candle, shared);
  }
  if (nextGap !== gaps.length) {
    throw new RangeError(
      `candleStreamEvents: ${gaps.length - nextGap} gap(s) do not end before any of the candles`,
    );
  }
  return events;
}

/** The key a market stream is ordered by: occurredAt (see above). */
export function streamTimeKey(event: Pick<RecordedEvent, 'metadata'>): number {
  return event.metadata.occurredAt;
}

/** true when the stored candle has exactly these prices and volume. */
export function sameCandleValues(stored: Candle, candle: Candle): boolean {
  return (
    stored.open === candle.open &&
    stored.high === candle.high &&
    stored.low === candle.low &&
    stored.close === candle.close &&
    stored.volume === candle.volume
  );
}
