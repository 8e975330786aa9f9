import { sql } from 'kysely';
import { ORDER_STATUSES } from '../../projections/orders.js';
import { eventTableRoute } from '../event-table-route.js';
import { listRoute } from '../list-route.js';
import type { ApiModule } from '../module.js';
import { SYMBOL } from '../schemas.js';
import {
  ACCOUNT,
  afterTimeTextText,
  eq,
  FROM,
  inRange,
  int,
  keyShapes,
  ms,
  msOrNull,
  num,
  numOrNull,
  object,
  str,
  strOrNull,
  TO,
  timeRange,
  toMs,
} from './read-models.js';

/** Orders with their state, and every fill (the `orders` and `fills` projections). */

interface OrdersQuery {
  account?: string;
  symbol?: string;
  status?: string;
  side?: string;
  from?: string;
  to?: string;
}

const orderSchema = object({
  account: str,
  clientOrderId: str,
  positionId: str,
  symbol: str,
  side: str,
  type: str,
  reason: {
    type: 'string',
    description: 'entry, exit, stop-loss, take-profit, trailing-stop, time-stop, liquidation',
  },
  quantity: num,
  limitPrice: numOrNull,
  stopPrice: numOrNull,
  referencePrice: num,
  status: { type: 'string', enum: [...ORDER_STATUSES] },
  filledQuantity: num,
  remainingQuantity: num,
  averagePrice: numOrNull,
  notional: num,
  fees: num,
  slippageQuote: num,
  fills: int,
  submittedAt: ms,
  lastFillAt: msOrNull,
  closedAt: msOrNull,
  endReason: { ...strOrNull, description: 'why it ended early: the cancel or reject reason, or expired' },
  endDetail: strOrNull,
});

const fillSchema = object({
  account: str,
  time: ms,
  clientOrderId: str,
  fillNumber: int,
  positionId: str,
  symbol: str,
  side: str,
  reason: str,
  price: num,
  quantity: num,
  notional: num,
  fee: num,
  feeCurrency: str,
  referencePrice: num,
  slippageBps: num,
  slippageQuote: num,
  liquidity: str,
  remainingQuantity: num,
  position: { ...int, description: 'global position of the OrderFilled event' },
});

export const ordersModule: ApiModule = {
  name: 'orders',
  tag: {
    name: 'orders',
    description: 'Orders and their state, and fills (the `orders` and `fills` projections).',
  },
  register(app, deps) {
    listRoute<OrdersQuery, Record<string, unknown>, readonly [number, string, string]>(app, deps, 'orders', {
      url: '/v1/orders',
      summary: 'Orders by submission time, with their state and fill totals',
      description: '`from`/`to` filter on the submission time.',
      filters: {
        account: ACCOUNT,
        symbol: SYMBOL,
        status: { type: 'string', enum: [...ORDER_STATUSES] },
        side: { type: 'string', enum: ['buy', 'sell'] },
        from: FROM,
        to: TO,
      },
      item: orderSchema,
      isKey: keyShapes.timeTextText,
      keyOf: (o) => [o.submittedAt as number, o.account as string, o.clientOrderId as string],
      async fetch({ database }, q, { after, limit }) {
        const range = timeRange(q);
        const { rows } = await sql<Record<string, unknown>>`
          select * from readmodel.orders
          where true ${eq('account', q.account)} ${eq('symbol', q.symbol)} ${eq('status', q.status)}
            ${eq('side', q.side)} ${inRange('submitted_at', range)}
            ${afterTimeTextText(['submitted_at', 'account', 'client_order_id'], after)}
          order by submitted_at, account, client_order_id
          limit ${limit}`.execute(database.db);
        return rows.map((r) => ({
          account: r.account,
          clientOrderId: r.client_order_id,
          positionId: r.position_id,
          symbol: r.symbol,
          side: r.side,
          type: r.type,
          reason: r.reason,
          quantity: r.quantity,
          limitPrice: r.limit_price,
          stopPrice: r.stop_price,
          referencePrice: r.reference_price,
          status: r.status,
          filledQuantity: r.filled_quantity,
          remainingQuantity: r.remaining_quantity,
          averagePrice: r.average_price,
          notional: r.notional,
          fees: r.fees,
          slippageQuote: r.slippage_quote,
          fills: r.fills,
          submittedAt: toMs(r.submitted_at),
          lastFillAt: toMs(r.last_fill_at),
          closedAt: toMs(r.closed_at),
          endReason: r.end_reason,
          endDetail: r.end_detail,
        }));
      },
    });

    eventTableRoute(app, deps, 'orders', {
      url: '/v1/fills',
      summary: 'Fills in time order: price, quantity, fee, slippage, liquidity',
      table: 'readmodel.fills',
      filters: { account: ACCOUNT, symbol: SYMBOL, side: { type: 'string', enum: ['buy', 'sell'] } },
      item: fillSchema,
    });
  },
};
