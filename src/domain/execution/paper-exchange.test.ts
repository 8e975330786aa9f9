import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createOrder, type Order, type OrderTerms } from '../orders/order.js';
import { roundDownToStep, roundUpToStep, stepDecimals } from './amounts.js';
import type { FillConfig } from './fill-config.js';
import { marketGrid } from './market-rules.js';
import {
  type CandlePrices,
  matchOrder,
  NO_TRIGGER,
  protectiveTrigger,
  STOP_TRIGGER,
  TAKE_PROFIT_TRIGGER,
} from './paper-exchange.js';
import { slippageBps } from './slippage.js';

const grid = marketGrid({ amountStep: 0.001, priceStep: 0.01, minAmount: 0, minNotional: 0 });
const config: FillConfig = {
  feeRate: 0.001,
  makerFeeRate: 0.0005,
  slippage: { model: 'fixed', bps: 10 },
  maxVolumeShare: 0.1,
};
const candle: CandlePrices = { openTime: 0, open: 100, high: 110, low: 90, close: 105, volume: 1_000 };

function order(terms: Partial<OrderTerms>): Order {
  const o = createOrder({
    clientOrderId: 'o1',
    symbol: 'BTC/USDT',
    side: 'buy',
    type: 'market',
    reason: 'entry',
    quantity: 2,
    limitPrice: null,
    stopPrice: null,
    referencePrice: 100,
    ...terms,
  });
  o.status = 'submitted';
  return o;
}

const env = {
  config,
  grid,
  capacity: Number.POSITIVE_INFINITY,
  freeCash: Number.POSITIVE_INFINITY,
  atr: Number.NaN,
};

describe('amounts on the exchange grid', () => {
  it('rounds down without binary floating-point surprises', () => {
    expect(roundDownToStep(0.3, 0.1)).toBe(0.3);
    expect(roundDownToStep(0.29999, 0.1)).toBe(0.2);
    expect(roundDownToStep(16.66666, 0.001)).toBe(16.666);
    expect(roundDownToStep(0.0009, 0.001)).toBe(0);
    expect(roundDownToStep(1.23456789, 1e-8)).toBe(1.23456789);
    expect(roundUpToStep(95.001, 0.01)).toBe(95.01);
    expect(roundUpToStep(95, 0.01)).toBe(95);
    expect(stepDecimals(0.00001)).toBe(5);
    expect(stepDecimals(0.5)).toBe(1);
    expect(stepDecimals(10)).toBe(0);
  });

  it('never rounds to the wrong side, however many steps a value holds', () => {
    // found by an independent recomputation: these used to round "down" 12 and 280 steps up
    expect(roundDownToStep(139319.01827585534, 1e-8)).toBe(139319.01827585);
    expect(roundDownToStep(2811693.114427551, 1e-8)).toBe(2811693.11442755);
    const steps = [1e-8, 1e-5, 0.001, 0.01, 0.1, 0.5, 1, 10];
    fc.assert(
      fc.property(fc.constantFrom(...steps), fc.double({ min: 0, max: 1, noNaN: true }), (step, share) => {
        // any value up to 2^50 steps: quantities and prices far beyond any market's
        const value = Number((share * step * 2 ** 50).toPrecision(1 + Math.floor(share * 16)));
        const decimals = stepDecimals(step);
        const next = (x: number, by: number) =>
          Number(((Math.round(x / step) + by) * step).toFixed(decimals));
        const down = roundDownToStep(value, step);
        expect(down).toBeLessThanOrEqual(value);
        expect(down).toBe(Number(down.toFixed(decimals)));
        if (value > 0) expect(next(down, 1)).toBeGreaterThan(value);
        const up = roundUpToStep(value, step);
        expect(up).toBeGreaterThanOrEqual(value);
        expect(up).toBe(Number(up.toFixed(decimals)));
        if (up > step) expect(next(up, -1)).toBeLessThan(value);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('matchOrder', () => {
  it('§2/§3 a market buy fills at the open plus adverse slippage, taker fee on the notional', () => {
    const fill = matchOrder(order({}), candle, env)!;
    expect(fill.referencePrice).toBe(100);
    expect(fill.price).toBeCloseTo(100.1, 12);
    expect(fill.quantity).toBe(2);
    expect(fill.fee).toBeCloseTo(0.001 * 100.1 * 2, 12);
    expect(fill.liquidity).toBe('taker');
    expect(fill.slippageBps).toBe(10);
  });

  it('§3 a market sell fills at the open minus slippage', () => {
    const fill = matchOrder(order({ side: 'sell', reason: 'exit' }), candle, env)!;
    expect(fill.price).toBeCloseTo(99.9, 12);
  });

  it('§4 a sell stop fills at the stop price when the range reaches it, at the open on a gap', () => {
    const stop = order({ side: 'sell', type: 'stop', stopPrice: 95, reason: 'stop-loss' });
    const inside = matchOrder(stop, candle, env)!;
    expect(inside.referencePrice).toBe(95);
    expect(inside.price).toBeCloseTo(95 * 0.999, 12);
    expect(inside.gap).toBe(false);
    const gapped = matchOrder(stop, { ...candle, open: 93, high: 96 }, env)!;
    expect(gapped.referencePrice).toBe(93);
    expect(gapped.gap).toBe(true);
    expect(matchOrder(stop, { ...candle, low: 95.01 }, env)).toBeNull();
  });

  it('§4 a buy stop mirrors it', () => {
    const stop = order({ type: 'stop', stopPrice: 105 });
    expect(matchOrder(stop, candle, env)!.referencePrice).toBe(105);
    expect(matchOrder(stop, { ...candle, open: 107 }, env)!.referencePrice).toBe(107);
    expect(matchOrder(stop, { ...candle, high: 104 }, env)).toBeNull();
  });

  it('§5 a limit fills at its price when touched, as a maker without slippage', () => {
    const sell = order({ side: 'sell', type: 'limit', limitPrice: 110, reason: 'take-profit' });
    const fill = matchOrder(sell, candle, env)!;
    expect(fill.price).toBe(110);
    expect(fill.liquidity).toBe('maker');
    expect(fill.fee).toBeCloseTo(0.0005 * 110 * 2, 12);
    expect(matchOrder(sell, { ...candle, high: 109.99 }, env)).toBeNull();
    // Opening above the limit still fills at the limit: the resting order is matched at its price.
    expect(matchOrder(sell, { ...candle, open: 112, high: 115 }, env)!.price).toBe(110);
    const buy = order({ type: 'limit', limitPrice: 90 });
    expect(matchOrder(buy, candle, env)!.price).toBe(90);
    expect(matchOrder(buy, { ...candle, low: 90.01 }, env)).toBeNull();
  });

  it('§6 fills at most the volume capacity, rounded down to the amount step; nothing when none is left', () => {
    const fill = matchOrder(order({}), candle, { ...env, capacity: 1.23456 })!;
    expect(fill.quantity).toBe(1.234);
    expect(matchOrder(order({}), candle, { ...env, capacity: 0.0004 })).toBeNull();
  });

  it('§7 a buy is cut to the free cash at the fill price, fee included', () => {
    const fill = matchOrder(order({}), candle, { ...env, freeCash: 150 })!;
    // 150 / (100.1 * 1.001) = 1.497 after rounding down
    expect(fill.quantity).toBe(1.497);
    expect(fill.cashLimited).toBe(true);
    expect(fill.quantity * fill.price + fill.fee).toBeLessThanOrEqual(150);
    const broke = matchOrder(order({}), candle, { ...env, freeCash: 0.05 })!;
    expect(broke.quantity).toBe(0);
  });

  it('§3/§7 a buy cut to the free cash pays the volume slippage of the quantity that fills', () => {
    const volume = { ...config, slippage: { model: 'volume', baseBps: 2, impactBps: 50 } as const };
    const whole = matchOrder(order({ quantity: 40 }), candle, { ...env, config: volume })!;
    const cut = matchOrder(order({ quantity: 40 }), candle, { ...env, config: volume, freeCash: 1_000 })!;
    expect(cut.cashLimited).toBe(true);
    expect(cut.quantity).toBeLessThan(10);
    expect(cut.slippageBps).toBeCloseTo(2 + 50 * Math.sqrt(cut.quantity / candle.volume), 12);
    expect(cut.slippageBps).toBeLessThan(whole.slippageBps);
    expect(cut.price).toBeCloseTo(100 * (1 + cut.slippageBps / 10_000), 12);
    expect(cut.quantity * cut.price + cut.fee).toBeLessThanOrEqual(1_000);
  });

  it('a triggered stop rest fills like a market order at the next open', () => {
    const stop = order({ side: 'sell', type: 'stop', stopPrice: 95, reason: 'stop-loss' });
    stop.triggered = true;
    expect(matchOrder(stop, { ...candle, low: 99 }, env)!.referencePrice).toBe(100);
  });
});

describe('slippage models', () => {
  it('volatility: base + share of ATR / price in bps', () => {
    expect(
      slippageBps(
        { model: 'volatility', baseBps: 1, atrShare: 0.5 },
        { price: 100, atr: 2, quantity: 1, volume: 10 },
      ),
    ).toBeCloseTo(1 + 0.5 * 0.02 * 10_000, 9);
    expect(
      slippageBps(
        { model: 'volatility', baseBps: 1, atrShare: 0.5 },
        { price: 100, atr: Number.NaN, quantity: 1, volume: 10 },
      ),
    ).toBe(1);
  });
  it('volume: base + impact x sqrt(participation), capped at full participation', () => {
    const model = { model: 'volume', baseBps: 2, impactBps: 20 } as const;
    expect(slippageBps(model, { price: 100, atr: 1, quantity: 4, volume: 100 })).toBeCloseTo(
      2 + 20 * 0.2,
      12,
    );
    expect(slippageBps(model, { price: 100, atr: 1, quantity: 400, volume: 100 })).toBe(22);
  });
});

describe('protectiveTrigger (§4)', () => {
  it('gap through the stop fires the stop', () => {
    expect(protectiveTrigger(95, 120, { ...candle, open: 94 })).toBe(STOP_TRIGGER);
  });
  it('gap through the take-profit fires the take-profit', () => {
    expect(protectiveTrigger(95, 105, { ...candle, open: 106, low: 80 })).toBe(TAKE_PROFIT_TRIGGER);
  });
  it('stop and take-profit inside one candle: the stop, the adverse one, first', () => {
    expect(protectiveTrigger(95, 108, candle)).toBe(STOP_TRIGGER);
  });
  it('only the one reached fires; 0 means no level', () => {
    expect(protectiveTrigger(85, 108, candle)).toBe(TAKE_PROFIT_TRIGGER);
    expect(protectiveTrigger(85, 120, candle)).toBe(NO_TRIGGER);
    expect(protectiveTrigger(0, 0, candle)).toBe(NO_TRIGGER);
  });
});
