/**
 * Orders and their life cycle.
 *
 *   new ──> submitted ──> partially-filled ──> filled
 *    │          │  │            │  │
 *    │          │  │            │  └──> cancelled | expired   (the unfilled rest)
 *    │          │  └──> filled
 *    └──> rejected <──┘ (also cancelled | expired from submitted)
 *
 * filled, cancelled, rejected and expired are final. Any other move is a bug in the caller and
 * is refused with IllegalOrderTransitionError before the order changes.
 */
import { TradekernelError } from '../errors.js';
import { roundToStep } from '../execution/amounts.js';

export const ORDER_SIDES = ['buy', 'sell'] as const;
export type OrderSide = (typeof ORDER_SIDES)[number];

export const ORDER_TYPES = ['market', 'limit', 'stop'] as const;
export type OrderType = (typeof ORDER_TYPES)[number];

/** Why an order exists: the entry, the strategy's exit, or which protection closed the position. */
export const ORDER_REASONS = [
  'entry',
  'exit',
  'stop-loss',
  'take-profit',
  'trailing-stop',
  'time-stop',
  'liquidation',
] as const;
export type OrderReason = (typeof ORDER_REASONS)[number];

export const ORDER_STATUSES = [
  'new',
  'submitted',
  'partially-filled',
  'filled',
  'cancelled',
  'rejected',
  'expired',
] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

const LEGAL: Record<OrderStatus, readonly OrderStatus[]> = {
  new: ['submitted', 'rejected'],
  submitted: ['partially-filled', 'filled', 'cancelled', 'rejected', 'expired'],
  'partially-filled': ['partially-filled', 'filled', 'cancelled', 'expired'],
  filled: [],
  cancelled: [],
  rejected: [],
  expired: [],
};

export function canTransition(from: OrderStatus, to: OrderStatus): boolean {
  return LEGAL[from].includes(to);
}

export function isFinal(status: OrderStatus): boolean {
  return LEGAL[status].length === 0;
}

export class IllegalOrderTransitionError extends TradekernelError {
  constructor(
    readonly clientOrderId: string,
    readonly from: OrderStatus,
    readonly to: OrderStatus,
  ) {
    super(
      `order ${clientOrderId}: cannot go from ${from} to ${to}`,
      'illegal_order_transition',
      LEGAL[from].length === 0
        ? `${from} is final`
        : `from ${from} an order can go to ${LEGAL[from].join(', ')}`,
    );
  }
}

/** An order with invalid terms (quantity, prices): refused before it exists. */
export class InvalidOrderError extends TradekernelError {
  constructor(message: string) {
    super(message, 'invalid_order');
  }
}

/** The terms of an order, fixed once submitted. */
export interface OrderTerms {
  readonly clientOrderId: string;
  readonly symbol: string;
  readonly side: OrderSide;
  readonly type: OrderType;
  readonly reason: OrderReason;
  readonly quantity: number;
  /** limit orders: the worst price accepted */
  readonly limitPrice: number | null;
  /** stop orders: the trigger price */
  readonly stopPrice: number | null;
  /** the price the order was decided at (the signal candle's close, or the trigger level) */
  readonly referencePrice: number;
}

export interface Order extends OrderTerms {
  status: OrderStatus;
  filledQuantity: number;
  /** kept separately from quantity - filledQuantity so the last fill takes exactly what is left */
  remainingQuantity: number;
  /** number of fills so far (names each fill's event) */
  fillCount: number;
  /** a stop order whose trigger was hit: its rest fills like a market order */
  triggered: boolean;
  /** candles this order was offered to the market without being completed */
  candlesOffered: number;
}

export function createOrder(terms: OrderTerms): Order {
  if (!(Number.isFinite(terms.quantity) && terms.quantity > 0)) {
    throw new InvalidOrderError(`order ${terms.clientOrderId}: quantity must be > 0, got ${terms.quantity}`);
  }
  if ((terms.type === 'limit') !== (terms.limitPrice !== null)) {
    throw new InvalidOrderError(`order ${terms.clientOrderId}: a limit price goes with limit orders only`);
  }
  if ((terms.type === 'stop') !== (terms.stopPrice !== null)) {
    throw new InvalidOrderError(`order ${terms.clientOrderId}: a stop price goes with stop orders only`);
  }
  for (const price of [terms.limitPrice, terms.stopPrice, terms.referencePrice]) {
    if (price !== null && !(Number.isFinite(price) && price > 0)) {
      throw new InvalidOrderError(`order ${terms.clientOrderId}: prices must be > 0, got ${price}`);
    }
  }
  return {
    ...terms,
    status: 'new',
    filledQuantity: 0,
    remainingQuantity: terms.quantity,
    fillCount: 0,
    triggered: false,
    candlesOffered: 0,
  };
}

export function transition(order: Order, to: OrderStatus): void {
  if (!canTransition(order.status, to))
    throw new IllegalOrderTransitionError(order.clientOrderId, order.status, to);
  order.status = to;
}

/**
 * Records a fill of `quantity` (at most what remains). The order becomes filled when nothing
 * remains, partially-filled otherwise. With the market's amount step, a rest within a rounding
 * residue of the grid is put on it: binary subtraction leaves residues (0.0004 - 4 x 0.0001 is
 * 2.7e-20, not 0) that would keep an order working for a dust fill one candle later.
 */
export function recordFill(order: Order, quantity: number, grid?: AmountGrid): void {
  if (!(quantity > 0 && quantity <= order.remainingQuantity)) {
    throw new InvalidOrderError(
      `order ${order.clientOrderId}: fill of ${quantity} with ${order.remainingQuantity} remaining`,
    );
  }
  let rest = order.remainingQuantity - quantity;
  if (grid !== undefined) {
    // only a residue is snapped: a rest truly off the grid (the step changed while the order
    // worked) keeps its exact quantity, or units would vanish or appear
    const snapped = roundToStep(rest, grid.amountStep, grid.amountDecimals);
    const residue = Math.max(grid.amountStep * 1e-6, order.quantity * 1e-12); // ulps, far below a step
    if (Math.abs(rest - snapped) <= residue) rest = snapped;
  }
  const complete = !(rest > 0);
  transition(order, complete ? 'filled' : 'partially-filled');
  order.filledQuantity += quantity;
  order.remainingQuantity = complete ? 0 : rest;
  order.fillCount++;
}

/** The amount step of a market and its decimals (execution/market-rules.ts MarketGrid). */
export interface AmountGrid {
  readonly amountStep: number;
  readonly amountDecimals: number;
}

/** An order still working at the exchange. */
export function isOpen(order: Order): boolean {
  return order.status === 'submitted' || order.status === 'partially-filled';
}
