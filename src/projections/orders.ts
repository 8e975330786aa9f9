import { sql } from 'kysely';
import type { RecordedEvent } from '../domain/events/envelope.js';
import type {
  OrderCancelledData,
  OrderExpiredData,
  OrderFilledData,
  OrderRejectedData,
  OrderSubmittedData,
  StopTriggeredData,
} from '../domain/orders/events.js';
import { ProjectionError, type Projector } from './projector.js';
import { type Columns, insertRows, loadRows, need, unknownEvent, upsert } from './rows.js';

/**
 * Orders and their state: `submitted` → `partially-filled` → `filled`, or ended `cancelled`,
 * `rejected` or `expired` (with the reason). Fill totals (quantity, average price, fees,
 * slippage) are summed fill by fill in log order. Also every protective trigger (stop-loss,
 * trailing stop, take-profit, time stop) that fired.
 */

export const ORDER_STATUSES = [
  'submitted',
  'partially-filled',
  'filled',
  'cancelled',
  'rejected',
  'expired',
] as const;

const COLUMNS = {
  account: 'text',
  client_order_id: 'text',
  position_id: 'text',
  symbol: 'text',
  side: 'text',
  type: 'text',
  reason: 'text',
  quantity: 'float8',
  limit_price: 'float8',
  stop_price: 'float8',
  reference_price: 'float8',
  status: 'text',
  filled_quantity: 'float8',
  remaining_quantity: 'float8',
  notional: 'float8',
  average_price: 'float8',
  fees: 'float8',
  slippage_quote: 'float8',
  fills: 'int4',
  submitted_at: 'ms',
  last_fill_at: 'ms',
  closed_at: 'ms',
  end_reason: 'text',
  end_detail: 'text',
  causation_id: 'uuid',
  submitted_position: 'int8',
  last_event_position: 'int8',
} as const satisfies Columns;

interface OrderRow {
  account: string;
  client_order_id: string;
  position_id: string;
  symbol: string;
  side: string;
  type: string;
  reason: string;
  quantity: number;
  limit_price: number | null;
  stop_price: number | null;
  reference_price: number;
  status: (typeof ORDER_STATUSES)[number];
  filled_quantity: number;
  remaining_quantity: number;
  notional: number;
  average_price: number | null;
  fees: number;
  slippage_quote: number;
  fills: number;
  submitted_at: number;
  last_fill_at: number | null;
  closed_at: number | null;
  end_reason: string | null;
  end_detail: string | null;
  causation_id: string | null;
  submitted_position: number;
  last_event_position: number;
}

const TRIGGER_COLUMNS = {
  account: 'text',
  time: 'ms',
  position_id: 'text',
  symbol: 'text',
  kind: 'text',
  trigger_price: 'float8',
  gap: 'bool',
  candle_open_time: 'ms',
  open: 'float8',
  high: 'float8',
  low: 'float8',
  close: 'float8',
  stop_price: 'float8',
  take_profit_price: 'float8',
  trailing_stop_price: 'float8',
  high_water: 'float8',
  held_candles: 'int4',
  event_id: 'uuid',
  event_position: 'int8',
} as const satisfies Columns;

const keyOf = (account: string, id: string) => `${account}\u0000${id}`;

export const ordersProjector: Projector = {
  name: 'orders',
  version: 1,
  handles: [
    'OrderSubmitted',
    'OrderFilled',
    'OrderCancelled',
    'OrderRejected',
    'OrderExpired',
    'StopTriggered',
  ],
  migrations: [
    {
      version: 1,
      name: 'orders and protective triggers',
      up: [
        `create table readmodel.orders (
          account text not null,
          client_order_id text not null,
          position_id text not null,
          symbol text not null,
          side text not null,
          type text not null,
          reason text not null,
          quantity double precision not null,
          limit_price double precision,
          stop_price double precision,
          reference_price double precision not null,
          status text not null,
          filled_quantity double precision not null,
          remaining_quantity double precision not null,
          notional double precision not null,
          average_price double precision,
          fees double precision not null,
          slippage_quote double precision not null,
          fills integer not null,
          submitted_at timestamptz not null,
          last_fill_at timestamptz,
          closed_at timestamptz,
          end_reason text,
          end_detail text,
          causation_id uuid,
          submitted_position bigint not null,
          last_event_position bigint not null,
          primary key (account, client_order_id)
        )`,
        'create index orders_by_time on readmodel.orders (submitted_at, account, client_order_id)',
        'create index orders_by_position on readmodel.orders (account, position_id)',
        `create table readmodel.stop_triggers (
          account text not null,
          time timestamptz not null,
          position_id text not null,
          symbol text not null,
          kind text not null,
          trigger_price double precision,
          gap boolean not null,
          candle_open_time timestamptz not null,
          open double precision not null,
          high double precision not null,
          low double precision not null,
          close double precision not null,
          stop_price double precision,
          take_profit_price double precision,
          trailing_stop_price double precision,
          high_water double precision not null,
          held_candles integer not null,
          event_id uuid not null,
          event_position bigint not null,
          primary key (account, time, event_position)
        )`,
      ],
    },
  ],

  async reset(tx) {
    await sql`truncate readmodel.orders, readmodel.stop_triggers`.execute(tx);
  },

  async apply(tx, events) {
    const wanted = new Map<string, { account: string; client_order_id: string }>();
    for (const e of events) {
      if (e.type === 'StopTriggered') continue;
      const d = e.data as { account: string; clientOrderId: string };
      if (d?.account && d.clientOrderId)
        wanted.set(keyOf(d.account, d.clientOrderId), {
          account: d.account,
          client_order_id: d.clientOrderId,
        });
    }
    const orders = new Map(
      (
        await loadRows<OrderRow>(
          tx,
          'readmodel.orders',
          COLUMNS,
          { account: 'text', client_order_id: 'text' },
          [...wanted.values()],
        )
      ).map((o) => [keyOf(o.account, o.client_order_id), o]),
    );
    const touched = new Set<string>();
    const triggers: object[] = [];
    const orderOf = (event: RecordedEvent): OrderRow => {
      const d = event.data as { account: string; clientOrderId: string };
      const order = orders.get(keyOf(d.account, d.clientOrderId));
      if (!order) {
        throw new ProjectionError(
          `${event.type} at position ${event.position}: no order ${d.clientOrderId} was submitted on ${d.account}`,
        );
      }
      if (order.closed_at !== null) {
        throw new ProjectionError(
          `${event.type} at position ${event.position}: order ${d.clientOrderId} is already ${order.status}`,
        );
      }
      touched.add(keyOf(d.account, d.clientOrderId));
      order.last_event_position = event.position;
      return order;
    };
    for (const event of events) {
      const at = event.metadata.occurredAt;
      switch (event.type) {
        case 'OrderSubmitted': {
          const d = event.data as OrderSubmittedData;
          const key = keyOf(
            need(event, d?.account, 'account'),
            need(event, d.clientOrderId, 'clientOrderId'),
          );
          if (orders.has(key))
            throw new ProjectionError(
              `order ${d.clientOrderId} submitted twice (again at position ${event.position})`,
            );
          orders.set(key, {
            account: d.account,
            client_order_id: d.clientOrderId,
            position_id: d.positionId,
            symbol: d.symbol,
            side: d.side,
            type: d.type,
            reason: d.reason,
            quantity: d.quantity,
            limit_price: d.limitPrice,
            stop_price: d.stopPrice,
            reference_price: d.referencePrice,
            status: 'submitted',
            filled_quantity: 0,
            remaining_quantity: d.quantity,
            notional: 0,
            average_price: null,
            fees: 0,
            slippage_quote: 0,
            fills: 0,
            submitted_at: at,
            last_fill_at: null,
            closed_at: null,
            end_reason: null,
            end_detail: null,
            causation_id: event.metadata.causationId,
            submitted_position: event.position,
            last_event_position: event.position,
          });
          touched.add(key);
          break;
        }
        case 'OrderFilled': {
          const d = event.data as OrderFilledData;
          const o = orderOf(event);
          o.fills += 1;
          o.notional += d.notional;
          o.fees += d.fee;
          o.slippage_quote += d.slippageQuote;
          o.filled_quantity = d.filledQuantity;
          o.remaining_quantity = d.remainingQuantity;
          o.average_price = o.notional / o.filled_quantity;
          o.last_fill_at = at;
          if (d.remainingQuantity === 0) {
            o.status = 'filled';
            o.closed_at = at;
          } else o.status = 'partially-filled';
          break;
        }
        case 'OrderCancelled': {
          const d = event.data as OrderCancelledData;
          Object.assign(orderOf(event), {
            status: 'cancelled',
            closed_at: at,
            end_reason: d.reason,
            end_detail: `${d.cancelledQuantity} cancelled after ${d.filledQuantity} filled`,
            remaining_quantity: 0,
          });
          break;
        }
        case 'OrderRejected': {
          const d = event.data as OrderRejectedData;
          Object.assign(orderOf(event), {
            status: 'rejected',
            closed_at: at,
            end_reason: d.reason,
            end_detail: d.detail,
            remaining_quantity: 0,
          });
          break;
        }
        case 'OrderExpired': {
          const d = event.data as OrderExpiredData;
          Object.assign(orderOf(event), {
            status: 'expired',
            closed_at: at,
            end_reason: 'expired',
            end_detail: `${d.expiredQuantity} lapsed after ${d.candlesOffered} candles`,
            remaining_quantity: 0,
          });
          break;
        }
        case 'StopTriggered': {
          const d = event.data as StopTriggeredData;
          triggers.push({
            account: need(event, d?.account, 'account'),
            time: at,
            position_id: d.positionId,
            symbol: d.symbol,
            kind: d.kind,
            trigger_price: d.triggerPrice,
            gap: d.gap,
            candle_open_time: d.candleOpenTime,
            open: d.open,
            high: d.high,
            low: d.low,
            close: d.close,
            stop_price: d.stopPrice,
            take_profit_price: d.takeProfitPrice,
            trailing_stop_price: d.trailingStopPrice,
            high_water: d.highWater,
            held_candles: d.heldCandles,
            event_id: event.id,
            event_position: event.position,
          });
          break;
        }
        default:
          throw unknownEvent('orders', event);
      }
    }
    await insertRows(
      tx,
      'readmodel.orders',
      COLUMNS,
      [...touched].map((k) => orders.get(k)!),
      upsert(['account', 'client_order_id'], COLUMNS),
    );
    await insertRows(tx, 'readmodel.stop_triggers', TRIGGER_COLUMNS, triggers);
  },
};
