import { describe, expect, it } from 'vitest';
import { clientOrderId, clientOrderIdPrefix } from './client-order-id.js';
import {
  canTransition,
  createOrder,
  IllegalOrderTransitionError,
  InvalidOrderError,
  isFinal,
  ORDER_STATUSES,
  type Order,
  type OrderStatus,
  recordFill,
  transition,
} from './order.js';

const terms = {
  clientOrderId: 'tk-abc-1',
  symbol: 'BTC/USDT',
  side: 'buy' as const,
  type: 'market' as const,
  reason: 'entry' as const,
  quantity: 3,
  limitPrice: null,
  stopPrice: null,
  referencePrice: 100,
};

const LEGAL: [OrderStatus, OrderStatus][] = [
  ['new', 'submitted'],
  ['new', 'rejected'],
  ['submitted', 'partially-filled'],
  ['submitted', 'filled'],
  ['submitted', 'cancelled'],
  ['submitted', 'rejected'],
  ['submitted', 'expired'],
  ['partially-filled', 'partially-filled'],
  ['partially-filled', 'filled'],
  ['partially-filled', 'cancelled'],
  ['partially-filled', 'expired'],
];

function orderIn(status: OrderStatus): Order {
  const order = createOrder(terms);
  order.status = status;
  return order;
}

describe('order state machine', () => {
  it.each(LEGAL)('%s → %s is legal', (from, to) => {
    const order = orderIn(from);
    transition(order, to);
    expect(order.status).toBe(to);
  });

  const illegal = ORDER_STATUSES.flatMap((from) =>
    ORDER_STATUSES.filter((to) => !LEGAL.some(([f, t]) => f === from && t === to)).map(
      (to) => [from, to] as const,
    ),
  );
  it.each(illegal)('%s → %s is refused with a typed error and leaves the order unchanged', (from, to) => {
    const order = orderIn(from);
    expect(canTransition(from, to)).toBe(false);
    expect(() => transition(order, to)).toThrow(IllegalOrderTransitionError);
    expect(order.status).toBe(from);
  });

  it('covers every pair exactly once', () => {
    expect(LEGAL.length + illegal.length).toBe(ORDER_STATUSES.length ** 2);
  });

  it('final states are filled, cancelled, rejected and expired', () => {
    expect(ORDER_STATUSES.filter(isFinal)).toEqual(['filled', 'cancelled', 'rejected', 'expired']);
  });

  it('the error names the order and what is allowed', () => {
    const error = (() => {
      try {
        transition(orderIn('submitted'), 'new');
      } catch (e) {
        return e as IllegalOrderTransitionError;
      }
    })()!;
    expect(error.message).toBe('order tk-abc-1: cannot go from submitted to new');
    expect(error.hint).toContain('partially-filled');
    expect(error.code).toBe('illegal_order_transition');
  });
});

describe('fills', () => {
  it('partial fills accumulate; the last takes exactly what remains', () => {
    const order = orderIn('submitted');
    recordFill(order, 1);
    expect(order).toMatchObject({
      status: 'partially-filled',
      filledQuantity: 1,
      remainingQuantity: 2,
      fillCount: 1,
    });
    recordFill(order, 2);
    expect(order).toMatchObject({ status: 'filled', filledQuantity: 3, remainingQuantity: 0, fillCount: 2 });
  });

  it('refuses a fill larger than what remains, or on a final order', () => {
    const order = orderIn('submitted');
    expect(() => recordFill(order, 4)).toThrow(InvalidOrderError);
    recordFill(order, 3);
    expect(() => recordFill(order, 1)).toThrow(InvalidOrderError);
    const cancelled = orderIn('cancelled');
    expect(() => recordFill(cancelled, 1)).toThrow(IllegalOrderTransitionError);
  });

  it('keeps the rest on the amount grid: no float residue stays working as dust', () => {
    const grid = { amountStep: 0.0001, amountDecimals: 4 };
    const order = createOrder({ ...terms, quantity: 0.0004 });
    order.status = 'submitted';
    for (let i = 0; i < 3; i++) recordFill(order, 0.0001, grid);
    expect(order.remainingQuantity).toBe(0.0001);
    recordFill(order, 0.0001, grid);
    expect(order).toMatchObject({ status: 'filled', remainingQuantity: 0, fillCount: 4 });
    // 0.1 + 0.2 held, sold 0.3 at a time: the 5.55e-17 left is no amount at all
    const sell = createOrder({ ...terms, side: 'sell', reason: 'exit', quantity: 0.1 + 0.2 });
    sell.status = 'submitted';
    recordFill(sell, 0.3, { amountStep: 0.001, amountDecimals: 3 });
    expect(sell).toMatchObject({ status: 'filled', remainingQuantity: 0 });
    // a rest truly off the grid (the step grew while the order worked) keeps its quantity
    const coarse = createOrder({ ...terms, quantity: 49.504 });
    coarse.status = 'submitted';
    recordFill(coarse, 30, { amountStep: 0.01, amountDecimals: 2 });
    expect(coarse.remainingQuantity).toBeCloseTo(19.504, 12);
    // without the grid the residue is what binary subtraction leaves
    const plain = createOrder({ ...terms, quantity: 0.1 + 0.2 });
    plain.status = 'submitted';
    recordFill(plain, 0.3);
    expect(plain.status).toBe('partially-filled');
  });

  it('refuses a fill before submission', () => {
    expect(() => recordFill(createOrder(terms), 1)).toThrow(IllegalOrderTransitionError);
  });
});

describe('order terms', () => {
  it('market, limit and stop orders carry exactly their prices', () => {
    expect(createOrder({ ...terms, type: 'limit', limitPrice: 99 }).limitPrice).toBe(99);
    expect(createOrder({ ...terms, type: 'stop', stopPrice: 95 }).stopPrice).toBe(95);
    expect(() => createOrder({ ...terms, type: 'limit' })).toThrow(InvalidOrderError);
    expect(() => createOrder({ ...terms, type: 'stop' })).toThrow(InvalidOrderError);
    expect(() => createOrder({ ...terms, limitPrice: 99 })).toThrow(InvalidOrderError);
    expect(() => createOrder({ ...terms, quantity: 0 })).toThrow(InvalidOrderError);
    expect(() => createOrder({ ...terms, type: 'stop', stopPrice: -1 })).toThrow(InvalidOrderError);
  });
});

describe('client order ids', () => {
  it('are deterministic, per account and run, and fit Binance (36 chars of [A-Za-z0-9-])', () => {
    const prefix = clientOrderIdPrefix('bt-demo', 'run-1');
    expect(clientOrderIdPrefix('bt-demo', 'run-1')).toBe(prefix);
    expect(clientOrderIdPrefix('bt-demo', 'run-2')).not.toBe(prefix);
    expect(clientOrderIdPrefix('bt-other', 'run-1')).not.toBe(prefix);
    const id = clientOrderId(prefix, Number.MAX_SAFE_INTEGER);
    expect(id).toMatch(/^[A-Za-z0-9-]{1,36}$/);
    expect(clientOrderId(prefix, 1)).not.toBe(clientOrderId(prefix, 2));
  });
});
