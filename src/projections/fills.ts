import { sql } from 'kysely';
import type { RecordedEvent } from '../domain/events/envelope.js';
import type { OrderFilledData } from '../domain/orders/events.js';
import type { Projector } from './projector.js';
import { type Columns, insertRows, need, unknownEvent } from './rows.js';

/**
 * Every fill: price, quantity, fee, slippage against the reference price, liquidity; and the
 * daily rollup `readmodel.fills_daily` (fills, notional, fees, slippage per account, symbol and
 * UTC day of the fill), a continuous aggregate under TimescaleDB.
 */

const COLUMNS = {
  account: 'text',
  time: 'ms',
  client_order_id: 'text',
  fill_number: 'int4',
  position_id: 'text',
  symbol: 'text',
  side: 'text',
  reason: 'text',
  price: 'float8',
  quantity: 'float8',
  notional: 'float8',
  fee: 'float8',
  fee_currency: 'text',
  reference_price: 'float8',
  slippage_bps: 'float8',
  slippage_quote: 'float8',
  liquidity: 'text',
  filled_quantity: 'float8',
  remaining_quantity: 'float8',
  candle_open_time: 'ms',
  event_id: 'uuid',
  event_position: 'int8',
} as const satisfies Columns;

function fillRow(event: RecordedEvent) {
  const d = event.data as OrderFilledData;
  return {
    account: need(event, d?.account, 'account'),
    time: event.metadata.occurredAt,
    client_order_id: need(event, d.clientOrderId, 'clientOrderId'),
    fill_number: need(event, d.fillNumber, 'fillNumber'),
    position_id: d.positionId,
    symbol: d.symbol,
    side: d.side,
    reason: d.reason,
    price: d.price,
    quantity: d.quantity,
    notional: d.notional,
    fee: d.fee,
    fee_currency: d.feeCurrency,
    reference_price: d.referencePrice,
    slippage_bps: d.slippageBps,
    slippage_quote: d.slippageQuote,
    liquidity: d.liquidity,
    filled_quantity: d.filledQuantity,
    remaining_quantity: d.remainingQuantity,
    candle_open_time: d.candleOpenTime,
    event_id: event.id,
    event_position: event.position,
  };
}

export const fillsProjector: Projector = {
  name: 'fills',
  version: 1,
  handles: ['OrderFilled'],
  migrations: [
    {
      version: 1,
      name: 'fills',
      up: [
        `create table readmodel.fills (
          account text not null,
          time timestamptz not null,
          client_order_id text not null,
          fill_number integer not null,
          position_id text not null,
          symbol text not null,
          side text not null,
          reason text not null,
          price double precision not null,
          quantity double precision not null,
          notional double precision not null,
          fee double precision not null,
          fee_currency text not null,
          reference_price double precision not null,
          slippage_bps double precision not null,
          slippage_quote double precision not null,
          liquidity text not null,
          filled_quantity double precision not null,
          remaining_quantity double precision not null,
          candle_open_time timestamptz not null,
          event_id uuid not null,
          event_position bigint not null,
          primary key (account, client_order_id, fill_number, time)
        )`,
        'create index fills_by_time on readmodel.fills (time, event_position)',
        'create index fills_by_account on readmodel.fills (account, time, event_position)',
      ],
    },
  ],
  timeSeries: {
    hypertables: [{ table: 'readmodel.fills', timeColumn: 'time', chunk: '30 days' }],
    rollups: [
      {
        name: 'readmodel.fills_daily',
        source: 'readmodel.fills',
        timeColumn: 'time',
        width: '1 day',
        groupBy: ['account', 'symbol'],
        aggregates: [
          { column: 'fills', fn: 'count' },
          { column: 'notional', fn: 'sum', of: 'notional' },
          { column: 'fees', fn: 'sum', of: 'fee' },
          { column: 'slippage_quote', fn: 'sum', of: 'slippage_quote' },
          { column: 'max_slippage_bps', fn: 'max', of: 'slippage_bps' },
        ],
      },
    ],
  },

  async reset(tx) {
    await sql`truncate readmodel.fills`.execute(tx);
  },

  async apply(tx, events) {
    const rows = events.map((event) => {
      if (event.type !== 'OrderFilled') throw unknownEvent('fills', event);
      return fillRow(event);
    });
    await insertRows(tx, 'readmodel.fills', COLUMNS, rows);
  },
};
