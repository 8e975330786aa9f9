/**
 * The fill contract (docs/fill-contract.md) through the whole kernel, on hand-made candles with
 * numbers worked out by hand.
 */
import { describe, expect, it } from 'vitest';
import type { FillConfig } from '../execution/fill-config.js';
import type {
  OrderCancelledData,
  OrderFilledData,
  OrderSubmittedData,
  StopTriggeredData,
} from '../orders/events.js';
import type { PositionClosedData, PositionOpenedData } from '../portfolio/events.js';
import type { RiskDecisionMadeData } from '../risk/events.js';
import { candleEvent, run } from './testing/candle-events.js';
import {
  assertAllValid,
  bar,
  flatBars,
  HOUR,
  ofType,
  PLAIN_FILLS,
  riskWith,
  T0,
  testKernel,
} from './testing/fixture.js';
import { scriptedStrategy } from './testing/scripted-strategy.js';

const BTC = 'BTC/USDT';
const events = (bars: ReturnType<typeof bar>[]) => bars.map((b) => candleEvent(BTC, b));
const at = (i: number) => T0 + i * HOUR;
const amountStep001 = { [BTC]: { amountStep: 0.001, priceStep: 0.01, minAmount: 0, minNotional: 0 } };

describe('§1/§2 a signal on the close of t fills at the open of t+1', () => {
  const kernel = testKernel({
    strategies: [scriptedStrategy({ [at(0)]: 'long' })],
    marketRules: amountStep001,
  });
  const out = run(
    kernel,
    events([bar(0, 290, 305, 285, 300), bar(1, 310, 320, 300, 315), bar(2, 315, 316, 314, 315)]),
  );
  assertAllValid(out);

  it('sizes fraction x equity / close(t), rounded down to the amount step', () => {
    // 0.5 x 10 000 / 300 = 16.6666… → 16.666
    const [decision] = ofType<RiskDecisionMadeData>(out, 'RiskDecisionMade');
    expect(decision!.requestedQuantity).toBe(16.666);
    expect(decision!.finalQuantity).toBe(16.666);
    expect(decision!.outcome).toBe('approved');
    const [submitted] = ofType<OrderSubmittedData>(out, 'OrderSubmitted');
    expect(submitted).toMatchObject({
      side: 'buy',
      type: 'market',
      reason: 'entry',
      quantity: 16.666,
      referencePrice: 300,
    });
  });

  it('fills at the next open, with the fee in quote currency on the fill notional', () => {
    const fills = out.filter((e) => e.type === 'OrderFilled');
    expect(fills).toHaveLength(1);
    const fill = fills[0]!.data as OrderFilledData;
    expect(fill.price).toBe(310);
    expect(fill.quantity).toBe(16.666);
    expect(fill.fee).toBeCloseTo(0.001 * 310 * 16.666, 10);
    expect(fill.feeCurrency).toBe('USDT');
    expect(fill.candleOpenTime).toBe(at(1));
    expect(fills[0]!.metadata.occurredAt).toBe(at(1));
    expect(kernel.status().cash).toBeCloseTo(10_000 - 310 * 16.666 * 1.001, 9);
  });

  it('chains candle → signal → decision → order → fill → position by causation', () => {
    const byType = (type: string) => out.find((e) => e.type === type)!;
    const candle0 = candleEvent(BTC, bar(0, 290, 305, 285, 300));
    expect(byType('SignalEmitted').metadata.causationId).toBe(candle0.id);
    expect(byType('RiskDecisionMade').metadata.causationId).toBe(byType('SignalEmitted').id);
    expect(byType('OrderSubmitted').metadata.causationId).toBe(byType('RiskDecisionMade').id);
    expect(byType('OrderFilled').metadata.causationId).toBe(byType('OrderSubmitted').id);
    expect(byType('PositionOpened').metadata.causationId).toBe(byType('OrderFilled').id);
    for (const e of out) {
      expect(e.metadata.correlationId).toBe(candle0.id);
      expect(e.metadata.mode).toBe('backtest');
      expect(e.metadata.runId).toBe('test-1');
    }
  });
});

describe('§3 slippage is adverse on both sides', () => {
  const fills = { ...PLAIN_FILLS, slippage: { model: 'fixed' as const, bps: 10 } };
  const kernel = testKernel({
    fills,
    strategies: [scriptedStrategy({ [at(0)]: 'long', [at(1)]: 'exit' })],
    marketRules: amountStep001,
  });
  const out = run(
    kernel,
    events([bar(0, 100, 101, 99, 100), bar(1, 200, 201, 199, 200), bar(2, 300, 301, 299, 300)]),
  );
  const [buy, sell] = ofType<OrderFilledData>(out, 'OrderFilled');

  it('a buy pays more than the open, a sell receives less', () => {
    expect(buy!.referencePrice).toBe(200);
    expect(buy!.price).toBeCloseTo(200.2, 10);
    expect(sell!.referencePrice).toBe(300);
    expect(sell!.price).toBeCloseTo(299.7, 10);
    expect(buy!.slippageBps).toBe(10);
    expect(sell!.slippageQuote).toBeCloseTo(0.3 * sell!.quantity, 9);
  });

  it('the closed position nets prices and both fees', () => {
    const [closed] = ofType<PositionClosedData>(out, 'PositionClosed');
    const q = buy!.quantity;
    const fees = 0.001 * 200.2 * q + 0.001 * 299.7 * q;
    expect(closed!.fees).toBeCloseTo(fees, 9);
    expect(closed!.realisedPnl).toBeCloseTo((299.7 - 200.2) * q - fees, 9);
    expect(closed!.exitReason).toBe('exit');
    expect(kernel.closedTrades()[0]).toMatchObject({
      symbol: BTC,
      entryTime: at(1),
      exitTime: at(2),
      exitReason: 'exit',
    });
  });
});

describe('§4 stops and take-profits', () => {
  // 15 candles with a range of ±1 around 100: ATR(14) = 2 at candle 14. A signal at candle 14
  // sets a stop distance of 2 x ATR = 4; the entry fills at candle 15's open, 100.
  const warmup = flatBars(15, 100);
  const entry = bar(15, 100, 100.5, 99.5, 100);
  const stopOnly = riskWith(0.5, { stopLoss: { enabled: true, atrMultiple: 2 } });
  const withTarget = riskWith(0.5, {
    stopLoss: { enabled: true, atrMultiple: 2 },
    takeProfit: { enabled: true, rMultiple: 2 },
  });
  const strategy = () => scriptedStrategy({ [at(14)]: 'long' });
  const play = (risk: typeof stopOnly, last: ReturnType<typeof bar>) => {
    const kernel = testKernel({ risk, strategies: [strategy()] });
    const out = run(kernel, events([...warmup, entry, last]));
    assertAllValid(out);
    return { kernel, out };
  };

  it('the position carries a stop at entry - 2 x ATR and a take-profit at entry + 2R', () => {
    const { out } = play(withTarget, bar(16, 100, 101, 99, 100));
    const [opened] = ofType<PositionOpenedData>(out, 'PositionOpened');
    expect(opened!.stopPrice).toBe(96);
    expect(opened!.takeProfitPrice).toBe(108);
  });

  it('a stop inside the range fills at the stop price', () => {
    const { out } = play(stopOnly, bar(16, 99, 99.5, 94, 95));
    const [trigger] = ofType<StopTriggeredData>(out, 'StopTriggered');
    expect(trigger).toMatchObject({ kind: 'stop-loss', triggerPrice: 96, gap: false });
    const exit = ofType<OrderFilledData>(out, 'OrderFilled')[1]!;
    expect(exit).toMatchObject({ reason: 'stop-loss', price: 96, side: 'sell' });
  });

  it('a gap through the stop fills at the open', () => {
    const { out } = play(stopOnly, bar(16, 93, 94, 90, 92));
    expect(ofType<StopTriggeredData>(out, 'StopTriggered')[0]).toMatchObject({ gap: true, triggerPrice: 96 });
    expect(ofType<OrderFilledData>(out, 'OrderFilled')[1]).toMatchObject({ price: 93, referencePrice: 93 });
  });

  it('stop and take-profit both inside one candle: the stop fills first', () => {
    const { out } = play(withTarget, bar(16, 100, 110, 95, 105));
    expect(ofType<StopTriggeredData>(out, 'StopTriggered').map((t) => t.kind)).toEqual(['stop-loss']);
    const exit = ofType<OrderFilledData>(out, 'OrderFilled')[1]!;
    expect(exit.price).toBe(96);
    expect(ofType<PositionClosedData>(out, 'PositionClosed')[0]!.exitReason).toBe('stop-loss');
  });

  it('a take-profit alone fills at its price as a maker', () => {
    const { out } = play(withTarget, bar(16, 100, 110, 97, 105));
    const exit = ofType<OrderFilledData>(out, 'OrderFilled')[1]!;
    expect(exit).toMatchObject({ reason: 'take-profit', price: 108, liquidity: 'maker', slippageBps: 0 });
    const [closed] = ofType<PositionClosedData>(out, 'PositionClosed');
    // (108 - 100) / 4 = 2R before fees
    expect(closed!.rMultiple).toBeGreaterThan(1.9);
    expect(closed!.rMultiple).toBeLessThan(2);
  });

  it("the trailing stop follows the highest high of earlier candles, not the candle's own", () => {
    const trailing = riskWith(0.5, { trailingStop: { enabled: true, atrMultiple: 1 } }); // distance 2
    const kernel = testKernel({ risk: trailing, strategies: [strategy()] });
    // candle 16 makes a high of 110 and dips to 101 in the same candle: still no stop (high-water 100.5 - 2)
    const out = run(
      kernel,
      events([...warmup, entry, bar(16, 101, 110, 101, 109), bar(17, 109, 109.5, 107.5, 108)]),
    );
    const [trigger] = ofType<StopTriggeredData>(out, 'StopTriggered');
    expect(trigger).toMatchObject({
      kind: 'trailing-stop',
      triggerPrice: 108,
      candleOpenTime: at(17),
      highWater: 110,
    });
    expect(ofType<OrderFilledData>(out, 'OrderFilled')[1]!.price).toBe(108);
  });

  it('the trailing stop is rounded up to the price step, like every stop', () => {
    // distance 1.2345 x ATR 2 = 2.469; high-water 110 - 2.469 = 107.531 → 107.54 (step 0.01)
    const trailing = riskWith(0.5, { trailingStop: { enabled: true, atrMultiple: 1.2345 } });
    const kernel = testKernel({ risk: trailing, strategies: [strategy()], marketRules: amountStep001 });
    const out = run(
      kernel,
      events([...warmup, entry, bar(16, 101, 110, 101, 109), bar(17, 109, 109.5, 107.5, 108)]),
    );
    expect(ofType<StopTriggeredData>(out, 'StopTriggered')[0]).toMatchObject({
      kind: 'trailing-stop',
      triggerPrice: 107.54,
    });
    expect(ofType<OrderFilledData>(out, 'OrderFilled')[1]!.price).toBe(107.54);
  });

  it('a time stop orders an exit at the close of the n-th candle held; it fills at the next open', () => {
    const timed = riskWith(0.5, { timeStop: { enabled: true, maxCandles: 2 } });
    const kernel = testKernel({ risk: timed, strategies: [strategy()] });
    const out = run(
      kernel,
      events([...warmup, entry, bar(16, 100, 101, 99, 100), bar(17, 103, 104, 102, 103)]),
    );
    const [trigger] = ofType<StopTriggeredData>(out, 'StopTriggered');
    expect(trigger).toMatchObject({
      kind: 'time-stop',
      heldCandles: 2,
      candleOpenTime: at(16),
      triggerPrice: null,
    });
    const exit = ofType<OrderFilledData>(out, 'OrderFilled')[1]!;
    expect(exit).toMatchObject({ reason: 'time-stop', price: 103, candleOpenTime: at(17) });
  });
});

describe('§6 volume share: partial fills, the rest stays open', () => {
  const fills = { ...PLAIN_FILLS, maxVolumeShare: 0.1 };

  describe('a stop that fires in a candle that cannot fill it sells its rest at the next open', () => {
    // The §4 setup: entry 50 at 100, stop 96. Candle 16 falls through the stop; candle 17
    // recovers far above it. The fired stop must not wait for the price to come back down.
    const stopOnly = riskWith(0.5, { stopLoss: { enabled: true, atrMultiple: 2 } });
    const recovery = bar(17, 110, 120, 109, 115);
    const play = (fillConfig: FillConfig, falling: ReturnType<typeof bar>) => {
      const kernel = testKernel({
        fills: fillConfig,
        risk: stopOnly,
        strategies: [scriptedStrategy({ [at(14)]: 'long' })],
      });
      const out = run(
        kernel,
        events([...flatBars(15, 100), bar(15, 100, 100.5, 99.5, 100), falling, recovery]),
      );
      assertAllValid(out);
      return { kernel, out };
    };

    it('no volume in the candle that fires it', () => {
      const { kernel, out } = play(fills, bar(16, 99, 99.5, 94, 95, 0));
      expect(ofType<StopTriggeredData>(out, 'StopTriggered')).toEqual([
        expect.objectContaining({ kind: 'stop-loss', triggerPrice: 96, candleOpenTime: at(16) }),
      ]);
      const exit = ofType<OrderFilledData>(out, 'OrderFilled')[1]!;
      expect(exit).toMatchObject({ reason: 'stop-loss', price: 110, quantity: 50, candleOpenTime: at(17) });
      expect(kernel.openPositions()).toEqual([]);
    });

    it('without a volume limit too: a candle with no volume fills nothing', () => {
      const { out } = play(PLAIN_FILLS, bar(16, 99, 99.5, 94, 95, 0));
      expect(ofType<OrderFilledData>(out, 'OrderFilled')[1]).toMatchObject({
        price: 110,
        candleOpenTime: at(17),
      });
    });

    it('the volume share of the candle that fires it is used up in part', () => {
      // 10% of 300 = 30 of the 50 at the stop price; the other 20 at candle 17's open
      const { kernel, out } = play(fills, bar(16, 99, 99.5, 94, 95, 300));
      const exits = ofType<OrderFilledData>(out, 'OrderFilled').slice(1);
      expect(exits.map((f) => [f.quantity, f.price, f.candleOpenTime])).toEqual([
        [30, 96, at(16)],
        [20, 110, at(17)],
      ]);
      expect(kernel.openPositions()).toEqual([]);
    });
  });

  it('fills 10% of the candle volume, the rest at the next open', () => {
    const kernel = testKernel({
      fills,
      strategies: [scriptedStrategy({ [at(0)]: 'long' })],
      marketRules: amountStep001,
    });
    // 0.5 x 10 000 / 100 = 50; candle 1 has volume 200 → 20, candle 2 volume 1 000 → the other 30
    const out = run(
      kernel,
      events([bar(0, 100, 101, 99, 100), bar(1, 100, 101, 99, 100, 200), bar(2, 102, 103, 101, 102, 1_000)]),
    );
    assertAllValid(out);
    const filled = ofType<OrderFilledData>(out, 'OrderFilled');
    expect(filled.map((f) => [f.fillNumber, f.quantity, f.price, f.remainingQuantity])).toEqual([
      [1, 20, 100, 30],
      [2, 30, 102, 0],
    ]);
    expect(ofType(out, 'PositionOpened')).toHaveLength(1);
    expect(kernel.openPositions()[0]!.quantity).toBe(50);
    expect(kernel.openPositions()[0]!.entryPrice).toBeCloseTo((20 * 100 + 30 * 102) / 50, 12);
  });

  it('an entry not complete within its time to live expires; the filled part stays', () => {
    const kernel = testKernel({
      fills,
      entryOrderTtlCandles: 2,
      strategies: [scriptedStrategy({ [at(0)]: 'long' })],
      marketRules: amountStep001,
    });
    const out = run(
      kernel,
      events([bar(0, 100, 101, 99, 100), bar(1, 100, 101, 99, 100, 100), bar(2, 100, 101, 99, 100, 0)]),
    );
    expect(ofType<OrderFilledData>(out, 'OrderFilled').map((f) => f.quantity)).toEqual([10]);
    expect(ofType(out, 'OrderExpired')).toEqual([
      expect.objectContaining({ filledQuantity: 10, expiredQuantity: 40, candlesOffered: 2 }),
    ]);
    expect(kernel.openPositions()[0]!.quantity).toBe(10);
    expect(kernel.workingOrders()).toEqual([]);
  });
});

describe('§7 a buy never spends more than the free cash', () => {
  it('cuts the fill at a gap up and cancels the rest', () => {
    const kernel = testKernel({
      risk: riskWith(1),
      strategies: [scriptedStrategy({ [at(0)]: 'long' })],
      marketRules: amountStep001,
    });
    const out = run(kernel, events([bar(0, 100, 101, 99, 100), bar(1, 110, 111, 109, 110)]));
    assertAllValid(out);
    const [decision] = ofType<RiskDecisionMadeData>(out, 'RiskDecisionMade');
    // 10 000 / 100 = 100 requested; the fee must fit: 10 000 / (100 x 1.001) = 99.900…
    expect(decision).toMatchObject({
      outcome: 'resized',
      rule: 'cash',
      requestedQuantity: 100,
      finalQuantity: 99.9,
    });
    const [fill] = ofType<OrderFilledData>(out, 'OrderFilled');
    expect(fill!.quantity).toBe(90.818); // 10 000 / (110 x 1.001) = 90.8182…
    expect(ofType<OrderCancelledData>(out, 'OrderCancelled')).toEqual([
      expect.objectContaining({ reason: 'insufficient-funds', filledQuantity: 90.818 }),
    ]);
    expect(kernel.status().cash).toBeGreaterThanOrEqual(0);
  });
});

describe('§8 a symbol that starts later, and candles interleaved by close time', () => {
  it('trades each symbol at its own next open', () => {
    const kernel = testKernel({
      symbols: ['BTC/USDT', 'ETH/USDT'],
      risk: riskWith(0.25),
      strategies: [scriptedStrategy((c) => (c.openTime === at(1) ? 'long' : null))],
    });
    const input = [
      candleEvent('BTC/USDT', bar(0, 100, 101, 99, 100)),
      candleEvent('BTC/USDT', bar(1, 100, 101, 99, 100)),
      candleEvent('ETH/USDT', bar(1, 10, 11, 9, 10)),
      candleEvent('BTC/USDT', bar(2, 104, 105, 103, 104)),
      candleEvent('ETH/USDT', bar(2, 12, 13, 11, 12)),
    ];
    const out = run(kernel, input);
    const fills = ofType<OrderFilledData>(out, 'OrderFilled');
    expect(fills.map((f) => [f.symbol, f.price])).toEqual([
      ['BTC/USDT', 104],
      ['ETH/USDT', 12],
    ]);
    expect(kernel.equityCurve().time).toEqual(new Float64Array([at(1), at(2), at(3)]));
  });
});
