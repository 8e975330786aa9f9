import { describe, expect, it } from 'vitest';
import { deterministicId } from '../events/ids.js';
import type { MarketKey } from './candle.js';
import {
  candleClosedEvent,
  candleEventId,
  candleEventIds,
  candleStreamEvents,
  gapEventId,
} from './candle-events.js';
import { findGaps } from './gaps.js';
import { dominantSpacingMismatch } from './stream-errors.js';

const KEY: MarketKey = { exchange: 'binance', symbol: 'BTC/USDT', timeframe: '1h' };
const HOUR = 3_600_000;
const T0 = Date.UTC(2021, 0, 1);
const candle = (i: number) => ({ openTime: T0 + i * HOUR, open: 10, high: 12, low: 9, close: 11, volume: 3 });

describe('market stream events', () => {
  it('derives ids from the market and the open time only', () => {
    expect(candleEventId(KEY, T0)).toBe(deterministicId(T0, 'binance', 'BTC/USDT', '1h', T0));
    const idOf = candleEventIds(KEY);
    for (const openTime of [T0, T0 + HOUR, Date.UTC(2025, 2, 1), Date.UTC(2000, 0, 1)])
      expect(idOf(openTime)).toBe(candleEventId(KEY, openTime));
    const a = candleClosedEvent(KEY, candle(0), { correlationId: '00000000-0000-4000-8000-000000000001' });
    const b = candleClosedEvent(KEY, { ...candle(0), close: 11.5 });
    expect(a.id).toBe(b.id);
    expect(candleEventId({ ...KEY, timeframe: '4h' }, T0)).not.toBe(a.id);
    expect(gapEventId(KEY, { from: T0, to: T0, missing: 1 })).not.toBe(
      gapEventId(KEY, { from: T0, to: T0 + HOUR, missing: 2 }),
    );
    expect(a.metadata).toEqual({
      occurredAt: T0 + HOUR,
      causationId: null,
      correlationId: '00000000-0000-4000-8000-000000000001',
      schemaVersion: 1,
    });
  });

  it('puts each gap right before the candle that ends it, with strictly increasing occurredAt', () => {
    const candles = [candle(0), candle(1), candle(5), candle(6), candle(9)];
    const gaps = findGaps(candles, '1h');
    const events = candleStreamEvents(KEY, candles, gaps);
    expect(events.map((e) => [e.type, e.metadata.occurredAt])).toEqual([
      ['CandleClosed', T0 + HOUR],
      ['CandleClosed', T0 + 2 * HOUR],
      ['CandleGapDetected', T0 + 5 * HOUR],
      ['CandleClosed', T0 + 6 * HOUR],
      ['CandleClosed', T0 + 7 * HOUR],
      ['CandleGapDetected', T0 + 9 * HOUR],
      ['CandleClosed', T0 + 10 * HOUR],
    ]);
    expect(events[2]!.data).toEqual({ ...KEY, from: T0 + 2 * HOUR, to: T0 + 4 * HOUR, missing: 3 });
    expect(() => candleStreamEvents(KEY, candles.slice(0, 2), gaps)).toThrow(
      'do not end before any of the candles',
    );
  });

  it('tells a file of another timeframe by the spacing of most of its candles', () => {
    const hours = Array.from({ length: 10 }, (_, i) => candle(i));
    expect(dominantSpacingMismatch(hours, '1h')).toBeNull();
    expect(dominantSpacingMismatch(hours, '1m')).toBe(HOUR);
    expect(dominantSpacingMismatch(hours, '4h')).toBe(HOUR);
    // gaps do not change the verdict
    expect(
      dominantSpacingMismatch([candle(0), candle(1), candle(2), candle(9), candle(10)], '1h'),
    ).toBeNull();
    expect(dominantSpacingMismatch(hours.slice(0, 2), '1m')).toBeNull();
  });
});
