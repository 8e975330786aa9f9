import { sql } from 'kysely';
import type { RecordedEvent } from '../domain/events/envelope.js';
import type { SignalEmittedData } from '../domain/strategies/events.js';
import type { Projector } from './projector.js';
import { type Columns, insertRows, need, unknownEvent } from './rows.js';

/** Every signal a strategy emitted, with its indicators and parameters. */

const COLUMNS = {
  account: 'text',
  time: 'ms',
  strategy: 'text',
  strategy_version: 'text',
  symbol: 'text',
  timeframe: 'text',
  direction: 'text',
  confidence: 'float8',
  price: 'float8',
  candle_open_time: 'ms',
  indicators: 'jsonb',
  params: 'jsonb',
  expected_return: 'float8',
  horizon_ms: 'int8',
  event_id: 'uuid',
  event_position: 'int8',
} as const satisfies Columns;

export function signalRow(event: RecordedEvent) {
  const d = event.data as SignalEmittedData;
  return {
    account: need(event, d?.account, 'account'),
    time: event.metadata.occurredAt,
    strategy: need(event, d.strategy, 'strategy'),
    strategy_version: d.strategyVersion,
    symbol: need(event, d.symbol, 'symbol'),
    timeframe: d.timeframe,
    direction: need(event, d.direction, 'direction'),
    confidence: d.confidence,
    price: need(event, d.price, 'price'),
    candle_open_time: need(event, d.candleOpenTime, 'candleOpenTime'),
    indicators: d.indicators ?? {},
    params: d.params ?? {},
    expected_return: d.expectedReturn ?? null,
    horizon_ms: d.horizonMs ?? null,
    event_id: event.id,
    event_position: event.position,
  };
}

export const signalsProjector: Projector = {
  name: 'signals',
  version: 1,
  handles: ['SignalEmitted'],
  migrations: [
    {
      version: 1,
      name: 'signals',
      up: [
        `create table readmodel.signals (
          account text not null,
          time timestamptz not null,
          strategy text not null,
          strategy_version text not null,
          symbol text not null,
          timeframe text not null,
          direction text not null,
          confidence double precision not null,
          price double precision not null,
          candle_open_time timestamptz not null,
          indicators jsonb not null,
          params jsonb not null,
          expected_return double precision,
          horizon_ms bigint,
          event_id uuid not null,
          event_position bigint not null,
          primary key (account, time, event_position)
        )`,
        'create index signals_by_time on readmodel.signals (time, event_position)',
        'create index signals_by_strategy on readmodel.signals (account, strategy, time)',
      ],
    },
  ],
  timeSeries: { hypertables: [{ table: 'readmodel.signals', timeColumn: 'time', chunk: '30 days' }] },

  async reset(tx) {
    await sql`truncate readmodel.signals`.execute(tx);
  },

  async apply(tx, events) {
    const rows = events.map((event) => {
      if (event.type !== 'SignalEmitted') throw unknownEvent('signals', event);
      return signalRow(event);
    });
    await insertRows(tx, 'readmodel.signals', COLUMNS, rows);
  },
};
