import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { newEvent } from '../events/catalogue.js';
import type { RecordedEvent } from '../events/envelope.js';
import { deterministicId } from '../events/ids.js';
import { MarketRulesObserved } from '../market/events.js';
import type { OrderCancelledData, OrderFilledData, OrderSubmittedData } from '../orders/events.js';
import type { RiskDecisionMadeData, TradingHaltedData } from '../risk/events.js';
import { emaCross, rsiReversion } from '../strategies/index.js';
import { defaultKernelConfig } from './config.js';
import { KernelInputError, KernelSnapshotError } from './errors.js';
import { barsFromRows, candleEvent, controlEvent, mergedCandleEvents, run } from './testing/candle-events.js';
import {
  assertAllValid,
  bar,
  HOUR,
  ofType,
  PLAIN_FILLS,
  riskWith,
  setupConfig,
  setupContext,
  T0,
  testKernel,
} from './testing/fixture.js';
import { scriptedStrategy } from './testing/scripted-strategy.js';
import { TradingKernel } from './trading-kernel.js';

const BTC = 'BTC/USDT';
const at = (i: number) => T0 + i * HOUR;
const candles = (from: number, count: number, price = 100) =>
  Array.from({ length: count }, (_, k) =>
    candleEvent(BTC, bar(from + k, price, price + 1, price - 1, price)),
  );

describe('control events', () => {
  const longEvery = () => scriptedStrategy((_, i) => (i % 2 === 0 ? 'long' : 'exit'));

  it('a pause refuses new entries (recorded as decisions) but lets exits through; resume lifts it', () => {
    const kernel = testKernel({
      strategies: [scriptedStrategy({ [at(0)]: 'long', [at(2)]: 'exit', [at(3)]: 'long', [at(5)]: 'long' })],
    });
    const out = [
      ...run(kernel, candles(0, 2)),
      ...kernel.handle(controlEvent('TradingPaused', 'bt-test', at(2))),
      ...run(kernel, candles(2, 2)),
      ...kernel.handle(controlEvent('TradingResumed', 'bt-test', at(4))),
      ...run(kernel, candles(4, 2)),
    ];
    assertAllValid(out);
    const decisions = ofType<RiskDecisionMadeData>(out, 'RiskDecisionMade').map(
      (d) => `${d.direction}:${d.outcome}:${d.rule}`,
    );
    expect(decisions).toEqual([
      'long:approved:sizing',
      'exit:approved:exit',
      'long:rejected:paused',
      'long:approved:sizing',
    ]);
  });

  it('a control event for another account is ignored', () => {
    const kernel = testKernel({ strategies: [longEvery()] });
    kernel.handle(controlEvent('KillSwitchEngaged', 'someone-else', at(0)));
    expect(kernel.status().killSwitch).toBe(false);
  });

  it('the kill switch cancels working entries and refuses every new order, exits included', () => {
    const kernel = testKernel({
      strategies: [scriptedStrategy({ [at(0)]: 'long', [at(1)]: 'exit', [at(3)]: 'long' })],
    });
    run(kernel, candles(0, 1));
    const killed = kernel.handle(controlEvent('KillSwitchEngaged', 'bt-test', at(1)));
    expect(ofType<OrderCancelledData>(killed, 'OrderCancelled')).toEqual([
      expect.objectContaining({ reason: 'kill-switch' }),
    ]);
    const kill = killed[0]!;
    expect(kill.metadata.causationId).toBe(controlEvent('KillSwitchEngaged', 'bt-test', at(1)).id);
    const out = run(kernel, candles(1, 3));
    expect(ofType(out, 'OrderFilled')).toEqual([]);
    expect(
      ofType<RiskDecisionMadeData>(out, 'RiskDecisionMade').map((d) => `${d.direction}:${d.rule}`),
    ).toEqual(['exit:kill-switch', 'long:kill-switch']);
  });

  it('liquidation sells every position at the next open and pauses entries', () => {
    const kernel = testKernel({
      symbols: ['BTC/USDT', 'ETH/USDT'],
      risk: riskWith(0.3),
      strategies: [scriptedStrategy((c) => (c.openTime === at(0) || c.openTime === at(3) ? 'long' : null))],
    });
    const both = (i: number, price: number) => [
      candleEvent('BTC/USDT', bar(i, price, price + 1, price - 1, price)),
      candleEvent('ETH/USDT', bar(i, price / 10, price / 10 + 0.1, price / 10 - 0.1, price / 10)),
    ];
    run(kernel, [...both(0, 100), ...both(1, 100)]);
    expect(kernel.openPositions()).toHaveLength(2);
    const ordered = kernel.handle(controlEvent('LiquidationRequested', 'bt-test', at(2)));
    expect(
      ofType<OrderSubmittedData>(ordered, 'OrderSubmitted').map((o) => [o.symbol, o.side, o.reason]),
    ).toEqual([
      ['BTC/USDT', 'sell', 'liquidation'],
      ['ETH/USDT', 'sell', 'liquidation'],
    ]);
    const out = run(kernel, [...both(2, 90), ...both(3, 95)]);
    expect(ofType<OrderFilledData>(out, 'OrderFilled').map((f) => [f.symbol, f.price])).toEqual([
      ['BTC/USDT', 90],
      ['ETH/USDT', 9],
    ]);
    expect(kernel.openPositions()).toEqual([]);
    expect(kernel.closedTrades().map((t) => t.exitReason)).toEqual(['liquidation', 'liquidation']);
    expect(ofType<RiskDecisionMadeData>(out, 'RiskDecisionMade').every((d) => d.rule === 'paused')).toBe(
      true,
    );
  });
});

describe('a control requested inside a candle takes effect from the next open', () => {
  // A request at at(2) + 30 min arrives after the candle closing at at(2) was handled: the next
  // candle opened at at(2), before the request, and what it traded had really traded.
  const halfPast = (i: number) => at(i) + HOUR / 2;

  it('a liquidation sells at the open after the request, not at the open before it', () => {
    const kernel = testKernel({ risk: riskWith(0.3), strategies: [scriptedStrategy({ [at(0)]: 'long' })] });
    run(kernel, candles(0, 2));
    expect(kernel.openPositions()).toHaveLength(1);
    const request = controlEvent('LiquidationRequested', 'bt-test', halfPast(2));
    expect(kernel.handle(request)).toEqual([]);
    // the candle of the request crashes after its open; the sell waits for the next open
    const out = run(kernel, [
      candleEvent(BTC, bar(2, 100, 100, 60, 70)),
      candleEvent(BTC, bar(3, 72, 75, 70, 74)),
    ]);
    assertAllValid(out);
    const [submitted] = out.filter((e) => e.type === 'OrderSubmitted');
    expect(submitted!.metadata).toMatchObject({ occurredAt: at(3), causationId: request.id });
    expect(
      ofType<OrderFilledData>(out, 'OrderFilled').map((f) => [f.reason, f.price, f.candleOpenTime]),
    ).toEqual([['liquidation', 72, at(3)]]);
    expect(kernel.closedTrades().map((t) => t.exitReason)).toEqual(['liquidation']);
  });

  it('a kill switch lets an entry that traded before the request keep its fill, and cancels its rest', () => {
    const kernel = testKernel({
      fills: { ...PLAIN_FILLS, maxVolumeShare: 0.1 },
      risk: riskWith(0.5),
      strategies: [scriptedStrategy({ [at(0)]: 'long' })],
    });
    run(kernel, candles(0, 1));
    const request = controlEvent('KillSwitchEngaged', 'bt-test', halfPast(1));
    expect(kernel.handle(request)).toEqual([]);
    expect(kernel.status().killSwitch).toBe(true);
    // 50 ordered at at(1); candle 1 (volume 200) fills 20 at its open, before the request
    const out = run(kernel, [candleEvent(BTC, bar(1, 100, 101, 99, 100, 200)), ...candles(2, 1)]);
    assertAllValid(out);
    expect(ofType<OrderFilledData>(out, 'OrderFilled').map((f) => [f.quantity, f.candleOpenTime])).toEqual([
      [20, at(1)],
    ]);
    const cancelled = out.find((e) => e.type === 'OrderCancelled')!;
    expect(cancelled.data).toMatchObject({ reason: 'kill-switch' });
    expect(cancelled.metadata).toMatchObject({ occurredAt: at(2), causationId: request.id });
    expect(kernel.openPositions()[0]!.quantity).toBe(20);
  });

  it('survives a snapshot while it waits, and a resume does not undo it', () => {
    const options = { risk: riskWith(0.3), strategies: [scriptedStrategy({ [at(0)]: 'long' })] };
    const setup = () => testKernel(options);
    const kernel = setup();
    run(kernel, candles(0, 2));
    kernel.handle(controlEvent('LiquidationRequested', 'bt-test', halfPast(2)));
    const copy = TradingKernel.restore(
      setupConfig(options),
      setupContext(options),
      JSON.parse(JSON.stringify(kernel.snapshot())),
    );
    const rest = candles(2, 2);
    expect(run(copy, rest)).toEqual(run(kernel, rest));
    expect(copy.closedTrades().map((t) => t.exitReason)).toEqual(['liquidation']);

    const resumed = setup();
    run(resumed, candles(0, 2));
    resumed.handle(controlEvent('LiquidationRequested', 'bt-test', halfPast(2)));
    resumed.handle(controlEvent('TradingResumed', 'bt-test', halfPast(2) + 1));
    run(resumed, candles(2, 2));
    // the sell requested before the resume still goes out at the next open
    expect(resumed.closedTrades().map((t) => [t.exitReason, t.exitTime])).toEqual([['liquidation', at(3)]]);
    expect(resumed.status().paused).toBe(false);
  });
});

describe('halts', () => {
  it('a daily loss limit halts entries with a TradingHalted event carrying the numbers', () => {
    const kernel = testKernel({
      risk: riskWith(1, { lossLimits: { enabled: true, daily: 0.05, weekly: null, monthly: null } }),
      strategies: [scriptedStrategy({ [at(0)]: 'long', [at(3)]: 'exit', [at(5)]: 'long' })],
    });
    const out = run(kernel, [
      candleEvent(BTC, bar(0, 100, 101, 99, 100)),
      candleEvent(BTC, bar(1, 100, 101, 99, 100)),
      candleEvent(BTC, bar(2, 100, 101, 89, 90)), // -10% on the day
      ...candles(3, 4, 90),
    ]);
    assertAllValid(out);
    const [halt] = ofType<TradingHaltedData>(out, 'TradingHalted');
    expect(halt).toMatchObject({
      rule: 'daily-loss-limit',
      limit: 0.05,
      referenceEquity: 10_000,
      until: Date.UTC(2024, 0, 2),
    });
    expect(halt!.loss).toBeGreaterThan(0.05);
    expect(ofType<RiskDecisionMadeData>(out, 'RiskDecisionMade').at(-1)).toMatchObject({
      outcome: 'rejected',
      rule: 'lossLimits',
    });
  });

  describe('two symbols closing together are marked once, with both candles in', () => {
    // 40% of equity in each; in the hour closing at at(3) one falls 13% and the other rises
    // 13%: the account is where it was. Halfway through (one candle in, the other not yet)
    // it would look 5.2% down, or 5.2% up.
    const ETH = 'ETH/USDT';
    const play = (moves: { btc: number; eth: number }) => {
      const kernel = testKernel({
        symbols: [BTC, ETH],
        risk: riskWith(0.4, { lossLimits: { enabled: true, daily: 0.05, weekly: null, monthly: null } }),
        strategies: [scriptedStrategy({ [at(0)]: 'long' })],
      });
      const both = (i: number, btc: number, eth: number) => [
        candleEvent(BTC, bar(i, btc, btc, btc, btc)),
        candleEvent(ETH, bar(i, eth, eth, eth, eth)),
      ];
      const out = run(kernel, [...both(0, 100, 10), ...both(1, 100, 10), ...both(2, moves.btc, moves.eth)]);
      assertAllValid(out);
      return { kernel, out };
    };

    it('a fall in one and a rise in the other is no daily loss', () => {
      const { kernel, out } = play({ btc: 87, eth: 11.3 });
      expect(kernel.openPositions()).toHaveLength(2);
      expect(ofType(out, 'TradingHalted')).toEqual([]);
    });

    it('nor a peak the account never had', () => {
      const { kernel } = play({ btc: 113, eth: 8.7 });
      expect(kernel.status().peakEquity).toBeLessThan(10_001);
    });

    it('a close still waiting for a symbol in a gap is marked when the next close begins', () => {
      const kernel = testKernel({
        symbols: [BTC, ETH],
        risk: riskWith(0.4, { lossLimits: { enabled: true, daily: 0.05, weekly: null, monthly: null } }),
        strategies: [scriptedStrategy({ [at(0)]: 'long' })],
      });
      const flat = (symbol: string, i: number, p: number) => candleEvent(symbol, bar(i, p, p, p, p));
      // ETH's candles stop after candle 1; BTC falls 13% in candle 2 and stays there
      const out = run(kernel, [
        flat(BTC, 0, 100),
        flat(ETH, 0, 10),
        flat(BTC, 1, 100),
        flat(ETH, 1, 10),
        flat(BTC, 2, 87),
        flat(BTC, 3, 87),
      ]);
      const halts = out.filter((e) => e.type === 'TradingHalted');
      // the close at at(3): ETH's candle never came; taken as BTC's next candle begins
      expect(halts.map((e) => [(e.data as TradingHaltedData).rule, e.metadata.occurredAt])).toEqual([
        ['daily-loss-limit', at(3)],
      ]);
    });

    it('symbols that trade in turns (each skips the other hour) are marked every close, one late', () => {
      const kernel = testKernel({
        symbols: [BTC, ETH],
        risk: riskWith(0.4, {
          lossLimits: { enabled: false, daily: null, weekly: null, monthly: null },
          drawdown: { enabled: true, reduceAt: 0.5, reduceFactor: 0.5, haltAt: 0.1 },
        }),
        strategies: [scriptedStrategy({ [at(0)]: 'long', [at(1)]: 'long' })],
      });
      // BTC trades at even hours, ETH at odd ones; both slide 3% an hour from hour 2
      const price = (i: number, p0: number) => p0 * (i < 2 ? 1 : 0.97 ** (i - 1));
      const events = Array.from({ length: 12 }, (_, i) => {
        const [symbol, p0] = i % 2 === 0 ? [BTC, 100] : [ETH, 10];
        const p = price(i, p0);
        return candleEvent(symbol, bar(i, p, p, p, p));
      });
      const out = run(kernel, events);
      assertAllValid(out);
      expect(kernel.openPositions().length).toBeGreaterThan(0);
      expect(ofType<TradingHaltedData>(out, 'TradingHalted').map((h) => h.rule)).toEqual(['drawdown']);
      expect(kernel.status().drawdown).toBeGreaterThan(0.1);
    });
  });
});

describe('input order and ignored input', () => {
  it('refuses a candle older than event time, and a repeated candle', () => {
    const kernel = testKernel({ symbols: ['BTC/USDT', 'ETH/USDT'], strategies: [scriptedStrategy({})] });
    kernel.handle(candleEvent(BTC, bar(5, 100, 101, 99, 100)));
    expect(() => kernel.handle(candleEvent('ETH/USDT', bar(3, 10, 11, 9, 10)))).toThrow(KernelInputError);
    expect(() => kernel.handle(candleEvent(BTC, bar(5, 100, 101, 99, 100)))).toThrow(
      /not after the previous one/,
    );
  });

  it('ignores other symbols, timeframes, exchanges and event types', () => {
    const kernel = testKernel({ strategies: [scriptedStrategy(() => 'long')] });
    expect(kernel.handle(candleEvent('DOGE/USDT', bar(0, 1, 1, 1, 1)))).toHaveLength(0);
    expect(kernel.handle(candleEvent(BTC, bar(0, 1, 1, 1, 1), '1m'))).toHaveLength(0);
    expect(kernel.handle(candleEvent(BTC, bar(0, 1, 1, 1, 1), '1h', 'kraken'))).toHaveLength(0);
    expect(kernel.handle({ ...candleEvent(BTC, bar(0, 1, 1, 1, 1)), type: 'SomethingElse' })).toHaveLength(0);
    expect(kernel.status().clock).toBe(Number.NEGATIVE_INFINITY);
  });

  it('MarketRulesObserved changes the amount step and minimums', () => {
    const kernel = testKernel({
      risk: riskWith(0.5, { marketMinimums: { enabled: true } }),
      strategies: [scriptedStrategy(() => 'long')],
    });
    const rules = (minNotional: number) =>
      newEvent(
        MarketRulesObserved,
        deterministicId(T0, 'rules', minNotional),
        { exchange: 'binance', symbol: BTC, amountStep: 0.1, priceStep: 0.01, minAmount: 0, minNotional },
        { occurredAt: T0 },
      );
    kernel.handle(rules(10));
    const out = kernel.handle(candleEvent(BTC, bar(0, 300, 301, 299, 300)));
    expect(ofType<RiskDecisionMadeData>(out, 'RiskDecisionMade')[0]!.finalQuantity).toBe(16.6);
    const strict = testKernel({
      risk: riskWith(0.5, { marketMinimums: { enabled: true } }),
      strategies: [scriptedStrategy(() => 'long')],
    });
    strict.handle(rules(6_000));
    const refused = strict.handle(candleEvent(BTC, bar(0, 300, 301, 299, 300)));
    expect(ofType<RiskDecisionMadeData>(refused, 'RiskDecisionMade')[0]).toMatchObject({
      outcome: 'rejected',
      rule: 'marketMinimums',
    });
  });

  it('takes events as the store returns them (RecordedEvent)', () => {
    const kernel = testKernel({ strategies: [scriptedStrategy(() => 'long')] });
    const candle = candleEvent(BTC, bar(0, 100, 101, 99, 100));
    const recorded: RecordedEvent = {
      ...candle,
      metadata: { ...candle.metadata, recordedAt: 1_800_000_000_000 },
      stream: 'market-binance-BTC_USDT-1h',
      revision: 0,
      position: 1,
    };
    expect(kernel.handle(recorded).map((e) => e.type)).toEqual([
      'SignalEmitted',
      'RiskDecisionMade',
      'OrderSubmitted',
    ]);
  });

  it('a candle that decides nothing returns the shared empty array', () => {
    const kernel = testKernel({ strategies: [scriptedStrategy({})] });
    const a = kernel.handle(candleEvent(BTC, bar(0, 1, 1, 1, 1)));
    const b = kernel.handle(candleEvent(BTC, bar(1, 1, 1, 1, 1)));
    expect(a).toBe(b);
    expect(Object.isFrozen(a)).toBe(true);
  });
});

describe('configuration and snapshots', () => {
  it('refuses symbols in another quote currency and repeated strategy names', () => {
    expect(() => testKernel({ symbols: ['ETH/BTC'], strategies: [emaCross()] })).toThrow(
      /not quoted in USDT/,
    );
    expect(() => testKernel({ strategies: [emaCross(), emaCross({ fast: 5 })] })).toThrow(/repeat/);
  });

  it('refuses a snapshot taken under another configuration', () => {
    const setup = { strategies: [emaCross()] };
    const snapshot = testKernel(setup).snapshot();
    expect(() =>
      TradingKernel.restore(setupConfig({ ...setup, initialCash: 5 }), setupContext(setup), snapshot),
    ).toThrow(KernelSnapshotError);
    expect(() =>
      TradingKernel.restore(setupConfig(setup), setupContext(setup), { ...snapshot, format: 'old' }),
    ).toThrow(KernelSnapshotError);
  });
});

describe('two real markets with every default rule', () => {
  const rows = (name: string) =>
    JSON.parse(readFileSync(new URL(`../../../test/fixtures/candles/${name}`, import.meta.url), 'utf8'));
  const btc = barsFromRows(rows('BTC_USDT-1h-first3000.json'));
  const eth = barsFromRows(rows('ETH_USDT-1h-first3000.json')).slice(400);
  const input = mergedCandleEvents({ 'BTC/USDT': btc, 'ETH/USDT': eth });
  const context = {
    ...setupContext({ strategies: [emaCross(), rsiReversion()] }),
    symbols: ['BTC/USDT', 'ETH/USDT'],
  };
  const kernel = new TradingKernel(defaultKernelConfig(), context);
  const out = run(kernel, input);

  it('every event is valid for the catalogue and every signal has exactly one decision', () => {
    assertAllValid(out);
    const signals = out.filter((e) => e.type === 'SignalEmitted').map((e) => e.id);
    const decided = out.filter((e) => e.type === 'RiskDecisionMade').map((e) => e.metadata.causationId);
    expect(decided).toEqual(signals);
    expect(new Set(out.map((e) => e.id)).size).toBe(out.length);
  });

  it('answers "why did it buy?" from the log alone', () => {
    const byId = new Map(out.map((e) => [e.id, e]));
    const inputs = new Set(input.map((e) => e.id));
    const opened = out.filter((e) => e.type === 'PositionOpened');
    expect(opened.length).toBeGreaterThan(20);
    for (const position of opened) {
      const chain: string[] = [];
      let event = position;
      while (event.metadata.causationId && byId.has(event.metadata.causationId)) {
        event = byId.get(event.metadata.causationId)!;
        chain.push(event.type);
      }
      expect(chain).toEqual(['OrderFilled', 'OrderSubmitted', 'RiskDecisionMade', 'SignalEmitted']);
      expect(inputs.has(event.metadata.causationId!)).toBe(true);
    }
  });

  it('closed trades match the PositionClosed events and the equity curve ends at the status', () => {
    expect(kernel.closedTrades().map((t) => t.positionId)).toEqual(
      ofType<{ positionId: string }>(out, 'PositionClosed').map((p) => p.positionId),
    );
    const curve = kernel.equityCurve();
    expect(curve.equity.at(-1)).toBe(kernel.status().equity);
    expect(curve.time.length).toBe(
      new Set(input.map((e) => (e.data as { closeTime: number }).closeTime)).size,
    );
    const realised = kernel.closedTrades().reduce((sum, t) => sum + t.pnl, 0);
    const open = kernel.openPositions().reduce((sum, p) => sum + p.unrealisedPnl, 0);
    expect(kernel.status().equity).toBeCloseTo(10_000 + realised + open, 6);
  });
});
