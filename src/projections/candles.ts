import { sql } from 'kysely';
import type { RecordedEvent } from '../domain/events/envelope.js';
import type { CandleClosedData, CandleGapDetectedData } from '../domain/market/events.js';
import { ProjectionError, type Projector } from './projector.js';

/** Candles and recorded gaps, one row each, keyed by market and open time. */
export const candlesProjector: Projector = {
  name: 'candles',
  version: 1,
  handles: ['CandleClosed', 'CandleGapDetected'],
  migrations: [
    {
      version: 1,
      name: 'candles and candle gaps',
      up: [
        `create table readmodel.candles (
          exchange text not null,
          symbol text not null,
          timeframe text not null,
          open_time timestamptz not null,
          close_time timestamptz not null,
          open double precision not null,
          high double precision not null,
          low double precision not null,
          close double precision not null,
          volume double precision not null,
          event_position bigint not null,
          primary key (exchange, symbol, timeframe, open_time)
        )`,
        `create table readmodel.candle_gaps (
          exchange text not null,
          symbol text not null,
          timeframe text not null,
          gap_from timestamptz not null,
          gap_to timestamptz not null,
          missing integer not null,
          event_position bigint not null,
          primary key (exchange, symbol, timeframe, gap_from)
        )`,
      ],
    },
  ],
  // TimescaleDB: candles are partitioned by open time (the key already holds it)
  timeSeries: { hypertables: [{ table: 'readmodel.candles', timeColumn: 'open_time', chunk: '30 days' }] },

  async reset(tx) {
    await sql`truncate readmodel.candles, readmodel.candle_gaps`.execute(tx);
  },

  async apply(tx, events) {
    const candles: unknown[] = [];
    const gaps: unknown[] = [];
    for (const event of events) {
      if (event.type === 'CandleClosed')
        candles.push(candleRow(event as RecordedEvent<'CandleClosed', CandleClosedData>));
      else if (event.type === 'CandleGapDetected')
        gaps.push(gapRow(event as RecordedEvent<'CandleGapDetected', CandleGapDetectedData>));
      else throw new ProjectionError(`cannot apply ${event.type} at position ${event.position}`);
    }
    if (candles.length > 0) {
      await sql`
        insert into readmodel.candles
          (exchange, symbol, timeframe, open_time, close_time, open, high, low, close, volume, event_position)
        select x.exchange, x.symbol, x.timeframe, to_timestamp(x.open_time / 1000.0), to_timestamp(x.close_time / 1000.0),
          x.open, x.high, x.low, x.close, x.volume, x.position
        from json_to_recordset(${JSON.stringify(candles)}::json) as x(exchange text, symbol text, timeframe text,
          open_time bigint, close_time bigint, open float8, high float8, low float8, close float8, volume float8,
          position bigint)`.execute(tx);
    }
    if (gaps.length > 0) {
      await sql`
        insert into readmodel.candle_gaps (exchange, symbol, timeframe, gap_from, gap_to, missing, event_position)
        select x.exchange, x.symbol, x.timeframe, to_timestamp(x.gap_from / 1000.0), to_timestamp(x.gap_to / 1000.0),
          x.missing, x.position
        from json_to_recordset(${JSON.stringify(gaps)}::json) as x(exchange text, symbol text, timeframe text,
          gap_from bigint, gap_to bigint, missing int, position bigint)`.execute(tx);
    }
  },
};

function candleRow(event: RecordedEvent<'CandleClosed', CandleClosedData>) {
  const d = event.data;
  if (typeof d?.openTime !== 'number' || typeof d.close !== 'number') {
    throw new ProjectionError(`CandleClosed at position ${event.position} has no openTime/close`);
  }
  return {
    exchange: d.exchange,
    symbol: d.symbol,
    timeframe: d.timeframe,
    open_time: d.openTime,
    close_time: d.closeTime,
    open: d.open,
    high: d.high,
    low: d.low,
    close: d.close,
    volume: d.volume,
    position: event.position,
  };
}

function gapRow(event: RecordedEvent<'CandleGapDetected', CandleGapDetectedData>) {
  const d = event.data;
  return {
    exchange: d.exchange,
    symbol: d.symbol,
    timeframe: d.timeframe,
    gap_from: d.from,
    gap_to: d.to,
    missing: d.missing,
    position: event.position,
  };
}
