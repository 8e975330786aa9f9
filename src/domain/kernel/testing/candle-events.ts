/**
 * Test support: candle and control events as the kernel receives them, plus replay helpers.
 * Test-only (reads nothing, but builds ids for fixtures); never imported by kernel code.
 */
import type { ControlActionData } from '../../control/events.js';
import { newEvent } from '../../events/catalogue.js';
import type { NewEvent } from '../../events/envelope.js';
import { deterministicId } from '../../events/ids.js';
import { CandleClosed, type CandleClosedData } from '../../market/events.js';
import { type Timeframe, timeframeMs } from '../../market/timeframe.js';
import type { TradingKernel } from '../trading-kernel.js';

export interface Bar {
  openTime: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
}

export function candleEvent(
  symbol: string,
  bar: Bar,
  timeframe: Timeframe = '1h',
  exchange = 'binance',
): NewEvent {
  const closeTime = bar.openTime + timeframeMs(timeframe);
  const data: CandleClosedData = {
    exchange,
    symbol,
    timeframe,
    openTime: bar.openTime,
    closeTime,
    open: bar.open,
    high: bar.high,
    low: bar.low,
    close: bar.close,
    volume: bar.volume,
  };
  return newEvent(
    CandleClosed,
    deterministicId(bar.openTime, exchange, symbol, timeframe, bar.openTime),
    data,
    {
      occurredAt: closeTime,
    },
  );
}

/** Freqtrade rows [ms, o, h, l, c, v] → bars. */
export function barsFromRows(rows: readonly (readonly number[])[]): Bar[] {
  return rows.map(([openTime, open, high, low, close, volume]) => ({
    openTime: openTime!,
    open: open!,
    high: high!,
    low: low!,
    close: close!,
    volume: volume!,
  }));
}

/** Merges several symbols' bars into candle events in close-time order (ties: symbol order). */
export function mergedCandleEvents(
  series: Record<string, readonly Bar[]>,
  timeframe: Timeframe = '1h',
): NewEvent[] {
  const events: { time: number; rank: number; event: NewEvent }[] = [];
  Object.entries(series).forEach(([symbol, bars], rank) => {
    for (const bar of bars)
      events.push({ time: bar.openTime, rank, event: candleEvent(symbol, bar, timeframe) });
  });
  events.sort((a, b) => a.time - b.time || a.rank - b.rank);
  return events.map((e) => e.event);
}

export function controlEvent(
  type: 'TradingPaused' | 'TradingResumed' | 'KillSwitchEngaged' | 'LiquidationRequested',
  account: string,
  occurredAt: number,
): NewEvent {
  const data: ControlActionData = { account, actor: 'owner', reason: 'test' };
  return {
    id: deterministicId(occurredAt, type, account),
    type,
    data,
    metadata: { occurredAt, causationId: null, correlationId: null, schemaVersion: 1 },
  };
}

/** Feeds events to a kernel and collects its output. */
export function run(kernel: TradingKernel, events: readonly NewEvent[]): NewEvent[] {
  const out: NewEvent[] = [];
  for (const event of events) out.push(...kernel.handle(event));
  return out;
}
