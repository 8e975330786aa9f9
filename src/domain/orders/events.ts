import { defineEvent } from '../events/catalogue.js';
import { boolean, epochMs, type Infer, nullable, number, object, oneOf } from '../events/schema.js';
import {
  ACCOUNT,
  AMOUNT,
  CLIENT_ORDER_ID,
  CURRENCY,
  PRICE,
  QUANTITY,
  REASON_TEXT,
  SYMBOL,
} from '../kernel/event-fields.js';
import { ORDER_REASONS, ORDER_SIDES, ORDER_TYPES } from './order.js';

const orderSubmittedSchema = object({
  account: ACCOUNT,
  clientOrderId: CLIENT_ORDER_ID,
  symbol: SYMBOL,
  side: oneOf(ORDER_SIDES),
  type: oneOf(ORDER_TYPES),
  reason: oneOf(ORDER_REASONS),
  quantity: QUANTITY,
  limitPrice: nullable(PRICE),
  stopPrice: nullable(PRICE),
  /** the price the order was decided at: the signal candle's close, or the trigger level */
  referencePrice: PRICE,
  /** the position this order opens or closes (positions are named by their entry order) */
  positionId: CLIENT_ORDER_ID,
});
export type OrderSubmittedData = Infer<typeof orderSubmittedSchema>;

export const OrderSubmitted = defineEvent({
  type: 'OrderSubmitted',
  schemaVersion: 1,
  schema: orderSubmittedSchema,
  description: 'An order was sent to the exchange (outbox: written before the exchange is called).',
});

const orderFilledSchema = object({
  account: ACCOUNT,
  clientOrderId: CLIENT_ORDER_ID,
  positionId: CLIENT_ORDER_ID,
  symbol: SYMBOL,
  side: oneOf(ORDER_SIDES),
  reason: oneOf(ORDER_REASONS),
  /** 1 for the first fill of the order, 2 for the next… */
  fillNumber: number({ integer: true, min: 1 }),
  price: PRICE,
  quantity: QUANTITY,
  /** price x quantity */
  notional: AMOUNT,
  fee: AMOUNT,
  feeCurrency: CURRENCY,
  /** the price before slippage: the candle's open, the stop or the limit price */
  referencePrice: PRICE,
  /** adverse slippage: in basis points of referencePrice, and in quote currency for this fill */
  slippageBps: number({ min: 0 }),
  slippageQuote: AMOUNT,
  liquidity: oneOf(['maker', 'taker'] as const),
  /** the order's totals after this fill; the order is complete when remainingQuantity is 0 */
  filledQuantity: QUANTITY,
  remainingQuantity: number({ min: 0 }),
  /** the candle whose prices made this fill */
  candleOpenTime: epochMs,
});
export type OrderFilledData = Infer<typeof orderFilledSchema>;

export const OrderFilled = defineEvent({
  type: 'OrderFilled',
  schemaVersion: 1,
  schema: orderFilledSchema,
  description: 'An order filled, completely or in part: price, quantity, fee, slippage, liquidity.',
});

export const CANCEL_REASONS = [
  /** the strategy exited before the entry completed */
  'exit-signal',
  /** a stop, take-profit or time stop closed the position before the entry completed */
  'protective-exit',
  'kill-switch',
  'liquidation',
  /** free cash did not cover the rest of a buy at the fill price */
  'insufficient-funds',
] as const;
export type CancelReason = (typeof CANCEL_REASONS)[number];

const orderCancelledSchema = object({
  account: ACCOUNT,
  clientOrderId: CLIENT_ORDER_ID,
  symbol: SYMBOL,
  reason: oneOf(CANCEL_REASONS),
  filledQuantity: number({ min: 0 }),
  cancelledQuantity: QUANTITY,
});
export type OrderCancelledData = Infer<typeof orderCancelledSchema>;

export const OrderCancelled = defineEvent({
  type: 'OrderCancelled',
  schemaVersion: 1,
  schema: orderCancelledSchema,
  description: 'The unfilled rest of an order was cancelled, with the reason.',
});

export const REJECT_REASONS = ['insufficient-funds'] as const;
export type RejectReason = (typeof REJECT_REASONS)[number];

const orderRejectedSchema = object({
  account: ACCOUNT,
  clientOrderId: CLIENT_ORDER_ID,
  symbol: SYMBOL,
  reason: oneOf(REJECT_REASONS),
  detail: REASON_TEXT,
  quantity: QUANTITY,
});
export type OrderRejectedData = Infer<typeof orderRejectedSchema>;

export const OrderRejected = defineEvent({
  type: 'OrderRejected',
  schemaVersion: 1,
  schema: orderRejectedSchema,
  description: 'The exchange refused an order before any of it filled.',
});

const orderExpiredSchema = object({
  account: ACCOUNT,
  clientOrderId: CLIENT_ORDER_ID,
  symbol: SYMBOL,
  filledQuantity: number({ min: 0 }),
  expiredQuantity: QUANTITY,
  /** candles the order was offered to without completing */
  candlesOffered: number({ integer: true, min: 1 }),
});
export type OrderExpiredData = Infer<typeof orderExpiredSchema>;

export const OrderExpired = defineEvent({
  type: 'OrderExpired',
  schemaVersion: 1,
  schema: orderExpiredSchema,
  description: 'An entry order did not complete within its time to live; its rest lapsed.',
});

export const PROTECTIVE_KINDS = ['stop-loss', 'trailing-stop', 'take-profit', 'time-stop'] as const;
export type ProtectiveKind = (typeof PROTECTIVE_KINDS)[number];

const stopTriggeredSchema = object({
  account: ACCOUNT,
  positionId: CLIENT_ORDER_ID,
  symbol: SYMBOL,
  kind: oneOf(PROTECTIVE_KINDS),
  /** the level that was hit (null for a time stop) */
  triggerPrice: nullable(PRICE),
  /** the candle opened beyond the level: the fill is at the open */
  gap: boolean,
  candleOpenTime: epochMs,
  open: PRICE,
  high: PRICE,
  low: PRICE,
  close: PRICE,
  /** the position's protection when it fired */
  stopPrice: nullable(PRICE),
  takeProfitPrice: nullable(PRICE),
  trailingStopPrice: nullable(PRICE),
  highWater: PRICE,
  heldCandles: number({ integer: true, min: 1 }),
});
export type StopTriggeredData = Infer<typeof stopTriggeredSchema>;

export const StopTriggered = defineEvent({
  type: 'StopTriggered',
  schemaVersion: 1,
  schema: stopTriggeredSchema,
  description: "A position's stop-loss, trailing stop, take-profit or time stop fired on a candle.",
});

export const orderEvents = [
  OrderSubmitted,
  OrderFilled,
  OrderCancelled,
  OrderRejected,
  OrderExpired,
  StopTriggered,
];
