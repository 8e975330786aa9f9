import { sql } from 'kysely';
import type { RunStartedData } from '../domain/runs/events.js';
import type { SignalEmittedData } from '../domain/strategies/events.js';
import type { Projector } from './projector.js';
import { type Columns, insertRows, loadRows, unknownEvent, upsert } from './rows.js';
import { signalRow } from './signals.js';

/**
 * Predicted against actual returns. A prediction is a signal that forecasts: SignalEmitted with
 * `expectedReturn` (a fraction) over `horizonMs`. The built-in strategies do not forecast, so the
 * table stays empty until a forecasting (ML) strategy emits such signals; nothing is made up
 * meanwhile. The actual return is a market fact, read at query time by the view
 * `readmodel.prediction_outcomes`: the close of the first candle of the symbol closing at or after
 * the horizon, against the signal's price.
 */

const ACCOUNT_COLUMNS = { account: 'text', exchange: 'text' } as const satisfies Columns;

const COLUMNS = {
  account: 'text',
  time: 'ms',
  exchange: 'text',
  strategy: 'text',
  strategy_version: 'text',
  symbol: 'text',
  timeframe: 'text',
  direction: 'text',
  confidence: 'float8',
  price: 'float8',
  candle_open_time: 'ms',
  predicted_return: 'float8',
  horizon_ms: 'int8',
  due_at: 'ms',
  event_id: 'uuid',
  event_position: 'int8',
} as const satisfies Columns;

export const predictionsProjector: Projector = {
  name: 'predictions',
  version: 1,
  handles: ['RunStarted', 'SignalEmitted'],
  migrations: [
    {
      version: 1,
      name: 'predictions',
      up: [
        'create table readmodel.prediction_accounts (account text primary key, exchange text not null)',
        `create table readmodel.predictions (
          account text not null,
          time timestamptz not null,
          exchange text,
          strategy text not null,
          strategy_version text not null,
          symbol text not null,
          timeframe text not null,
          direction text not null,
          confidence double precision not null,
          price double precision not null,
          candle_open_time timestamptz not null,
          predicted_return double precision not null,
          horizon_ms bigint,
          due_at timestamptz,
          event_id uuid not null,
          event_position bigint not null,
          primary key (account, time, event_position)
        )`,
        'create index predictions_by_time on readmodel.predictions (time, event_position)',
      ],
    },
  ],
  timeSeries: {
    hypertables: [{ table: 'readmodel.predictions', timeColumn: 'time', chunk: '30 days' }],
    views: [
      {
        name: 'readmodel.prediction_outcomes',
        requires: ['readmodel.candles'],
        sql: `select p.*, c.close as actual_close, c.close_time as resolved_at,
            c.close / p.price - 1 as actual_return,
            c.close / p.price - 1 - p.predicted_return as error,
            case when c.close is null then null
              else sign(c.close / p.price - 1) = sign(p.predicted_return) end as direction_hit
          from readmodel.predictions p
          left join lateral (
            select c.close, c.close_time from readmodel.candles c
            where c.exchange = p.exchange and c.symbol = p.symbol and c.timeframe = p.timeframe
              and p.due_at is not null
              and c.open_time >= p.due_at - (p.time - p.candle_open_time)
            order by c.open_time limit 1) c on true`,
      },
    ],
  },

  async reset(tx) {
    await sql`truncate readmodel.predictions, readmodel.prediction_accounts`.execute(tx);
  },

  async apply(tx, events) {
    const started: { account: string; exchange: string }[] = [];
    const accounts = new Set<string>();
    for (const e of events) {
      if (e.type === 'SignalEmitted' && (e.data as SignalEmittedData).expectedReturn !== undefined)
        accounts.add((e.data as SignalEmittedData).account);
    }
    const exchanges = new Map(
      (
        await loadRows<{ account: string; exchange: string }>(
          tx,
          'readmodel.prediction_accounts',
          ACCOUNT_COLUMNS,
          { account: 'text' },
          [...accounts].map((account) => ({ account })),
        )
      ).map((r) => [r.account, r.exchange]),
    );
    const rows: object[] = [];
    for (const event of events) {
      if (event.type === 'RunStarted') {
        const d = event.data as RunStartedData;
        exchanges.set(d.account, d.exchange);
        started.push({ account: d.account, exchange: d.exchange });
      } else if (event.type === 'SignalEmitted') {
        const s = signalRow(event);
        if (s.expected_return === null) continue; // a signal without a forecast predicts nothing
        rows.push({
          account: s.account,
          time: s.time,
          exchange: exchanges.get(s.account) ?? null,
          strategy: s.strategy,
          strategy_version: s.strategy_version,
          symbol: s.symbol,
          timeframe: s.timeframe,
          direction: s.direction,
          confidence: s.confidence,
          price: s.price,
          candle_open_time: s.candle_open_time,
          predicted_return: s.expected_return,
          horizon_ms: s.horizon_ms,
          due_at: s.horizon_ms === null ? null : s.time + s.horizon_ms,
          event_id: s.event_id,
          event_position: s.event_position,
        });
      } else {
        throw unknownEvent('predictions', event);
      }
    }
    await insertRows(
      tx,
      'readmodel.prediction_accounts',
      ACCOUNT_COLUMNS,
      [...new Map(started.map((s) => [s.account, s])).values()],
      upsert(['account'], ACCOUNT_COLUMNS),
    );
    await insertRows(tx, 'readmodel.predictions', COLUMNS, rows);
  },
};
