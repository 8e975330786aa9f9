/**
 * Properties of the kernel over random markets, random signals and random settings:
 * accounting reconciles with the fills, risk limits hold, output is deterministic, and a
 * snapshot/restore anywhere continues exactly like an uninterrupted run.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { NewEvent } from '../events/envelope.js';
import type { FillConfig } from '../execution/fill-config.js';
import type { OrderFilledData, OrderSubmittedData } from '../orders/events.js';
import type { PositionClosedData } from '../portfolio/events.js';
import { defaultRiskConfig, kellySizing, type RiskConfig, riskNone } from '../risk/config.js';
import type { RiskDecisionMadeData } from '../risk/events.js';
import { defaultKernelConfig, type KernelConfig } from './config.js';
import { type Bar, candleEvent, controlEvent } from './testing/candle-events.js';
import { assertAllValid, HOUR, T0 } from './testing/fixture.js';
import { scriptedStrategy } from './testing/scripted-strategy.js';
import { TradingKernel } from './trading-kernel.js';

const SYMBOLS = ['BTC/USDT', 'ETH/USDT', 'SOL/USDT'];
const START_PRICES = [100, 10, 1];
type Action = 'long' | 'exit' | null;

const stepArb = fc.record({
  gap: fc.double({ min: -0.04, max: 0.04, noNaN: true }),
  move: fc.double({ min: -0.06, max: 0.06, noNaN: true }),
  up: fc.double({ min: 0, max: 0.04, noNaN: true }),
  down: fc.double({ min: 0, max: 0.04, noNaN: true }),
  volume: fc.constantFrom(0, 3, 40, 500, 1e7),
  action: fc.constantFrom<Action>(null, null, null, null, 'long', 'long', 'exit'),
});

const marketArb = fc.record({
  series: fc.array(
    fc.record({
      start: fc.integer({ min: 0, max: 10 }),
      steps: fc.array(stepArb, { minLength: 15, maxLength: 90 }),
    }),
    {
      minLength: 1,
      maxLength: 3,
    },
  ),
  controls: fc.array(
    fc.record({
      at: fc.nat({ max: 100 }),
      type: fc.constantFrom(
        'TradingPaused',
        'TradingResumed',
        'KillSwitchEngaged',
        'LiquidationRequested',
        'TradingResumed',
      ),
    }),
    { maxLength: 3 },
  ),
});

const settingsArb = fc.record({
  rules: fc.constantFrom('default', 'kelly', 'none'),
  fraction: fc.double({ min: 0.05, max: 1, noNaN: true }),
  feeRate: fc.constantFrom(0, 0.001, 0.0025),
  slippage: fc.oneof(
    fc.integer({ min: 0, max: 30 }).map((bps) => ({ model: 'fixed' as const, bps })),
    fc.constant({ model: 'volume' as const, baseBps: 1, impactBps: 25 }),
    fc.constant({ model: 'volatility' as const, baseBps: 1, atrShare: 0.2 }),
  ),
  maxVolumeShare: fc.constantFrom(null, 0.1, 0.5),
  ttl: fc.integer({ min: 1, max: 4 }),
});

type Market = typeof marketArb extends fc.Arbitrary<infer T> ? T : never;
type Settings = typeof settingsArb extends fc.Arbitrary<infer T> ? T : never;

interface Scenario {
  config: KernelConfig;
  symbols: string[];
  actions: Record<string, Action[]>;
  events: NewEvent[];
}

function scenario(market: Market, settings: Settings): Scenario {
  const symbols = SYMBOLS.slice(0, market.series.length);
  const actions: Record<string, Action[]> = {};
  const timed: { time: number; rank: number; event: NewEvent }[] = [];
  market.series.forEach(({ start, steps }, s) => {
    const symbol = symbols[s]!;
    actions[symbol] = steps.map((x) => x.action);
    let close = START_PRICES[s]!;
    steps.forEach((x, i) => {
      const open = close * (1 + x.gap);
      close = open * (1 + x.move);
      const b: Bar = {
        openTime: T0 + (start + i) * HOUR,
        open,
        high: Math.max(open, close) * (1 + x.up),
        low: Math.min(open, close) * (1 - x.down),
        close,
        volume: x.volume,
      };
      timed.push({ time: b.openTime, rank: s, event: candleEvent(symbol, b) });
    });
  });
  for (const c of market.controls) {
    const time = T0 + c.at * HOUR + HOUR;
    timed.push({
      time: time - HOUR,
      rank: 9,
      event: controlEvent(c.type as 'TradingPaused', 'bt-prop', time),
    });
  }
  timed.sort((a, b) => a.time - b.time || a.rank - b.rank);

  const base = defaultRiskConfig();
  // Short ATR so that stops exist early in short random series; two positions at most among
  // three symbols, so the limit is reached often.
  const rules = { ...base.rules, maxPositions: { enabled: true, max: 2 } };
  const risk: RiskConfig =
    settings.rules === 'none'
      ? riskNone(settings.fraction)
      : {
          ...base,
          atrPeriod: 3,
          rules,
          ...(settings.rules === 'kelly' ? { sizing: kellySizing({ minTrades: 3 }) } : {}),
        };
  const fills: FillConfig = {
    feeRate: settings.feeRate,
    makerFeeRate: settings.feeRate,
    slippage: settings.slippage,
    maxVolumeShare: settings.maxVolumeShare,
  };
  const config = defaultKernelConfig({
    initialCash: 10_000,
    risk,
    fills,
    entryOrderTtlCandles: settings.ttl,
  });
  return { config, symbols, actions, events: timed.map((t) => t.event) };
}

function kernelFor(s: Scenario): TradingKernel {
  return new TradingKernel(s.config, context(s));
}

function context(s: Scenario) {
  // One scripted strategy reads each symbol's own script by its candle index.
  const strategy = scriptedStrategy((_, index, symbol) => s.actions[symbol]![index] ?? null);
  return {
    accountId: 'bt-prop',
    mode: 'backtest' as const,
    runId: 'prop-1',
    exchange: 'binance',
    timeframe: '1h' as const,
    symbols: s.symbols,
    strategies: [strategy],
  };
}

function runAll(kernel: TradingKernel, events: readonly NewEvent[]): NewEvent[] {
  const out: NewEvent[] = [];
  for (const e of events) out.push(...kernel.handle(e));
  return out;
}

const relClose = (a: number, b: number) => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));

describe('kernel properties', () => {
  it('cash, positions and fees reconcile with the fills exactly', () => {
    fc.assert(
      fc.property(marketArb, settingsArb, (market, settings) => {
        const s = scenario(market, settings);
        const kernel = kernelFor(s);
        const out = runAll(kernel, s.events);
        assertAllValid(out);
        const fills = out.filter((e) => e.type === 'OrderFilled').map((e) => e.data as OrderFilledData);
        let cash = 10_000;
        let fees = 0;
        const held = new Map<string, number>();
        const byPosition = new Map<string, number>();
        for (const f of fills) {
          const sign = f.side === 'buy' ? 1 : -1;
          expect(relClose(f.notional, f.price * f.quantity)).toBe(true);
          cash += -sign * f.notional - f.fee;
          fees += f.fee;
          held.set(f.symbol, (held.get(f.symbol) ?? 0) + sign * f.quantity);
          byPosition.set(f.positionId, (byPosition.get(f.positionId) ?? 0) - sign * f.notional - f.fee);
        }
        const status = kernel.status();
        expect(relClose(status.cash, cash)).toBe(true);
        expect(relClose(status.fees, fees)).toBe(true);
        expect(status.cash).toBeGreaterThanOrEqual(-1e-9);
        for (const p of kernel.openPositions()) expect(relClose(p.quantity, held.get(p.symbol)!)).toBe(true);
        for (const [symbol, quantity] of held) {
          if (!kernel.openPositions().some((p) => p.symbol === symbol))
            expect(Math.abs(quantity)).toBeLessThan(1e-9);
        }
        // each closed position's P&L is the sum of its fills' cash flows
        const closed = out
          .filter((e) => e.type === 'PositionClosed')
          .map((e) => e.data as PositionClosedData);
        for (const c of closed) expect(relClose(c.realisedPnl, byPosition.get(c.positionId)!)).toBe(true);
        const realised = closed.reduce((sum, c) => sum + c.realisedPnl, 0);
        expect(relClose(status.realisedPnl, realised)).toBe(true);
        const unrealised = kernel.openPositions().reduce((sum, p) => sum + p.unrealisedPnl, 0);
        expect(relClose(status.equity, 10_000 + realised + unrealised)).toBe(true);
      }),
      { numRuns: 120 },
    );
  });

  it('no risk limit is ever exceeded', () => {
    fc.assert(
      fc.property(marketArb, settingsArb, (market, settings) => {
        const s = scenario(market, {
          ...settings,
          rules: settings.rules === 'none' ? 'default' : settings.rules,
        });
        const kernel = kernelFor(s);
        const eps = 1e-9;
        const submitted = new Map<string, number>();
        const filled = new Map<string, number>();
        for (const event of s.events) {
          const out = kernel.handle(event);
          for (const e of out) {
            if (e.type === 'RiskDecisionMade') {
              const d = e.data as RiskDecisionMadeData;
              if (d.direction !== 'long' || d.outcome === 'rejected') continue;
              const n = d.numbers;
              const equity = n.equity!;
              // the decision's equity is the kernel's own mark at that close
              expect(equity).toBe(kernel.equityCurve().equity.at(-1));
              expect(n.riskFraction!).toBeLessThanOrEqual(0.02 + eps);
              expect(n.riskAmount!).toBeCloseTo(d.finalQuantity * n.riskDistance!, 6);
              expect(n.assetExposureAfter! / equity).toBeLessThanOrEqual(0.4 + eps);
              expect(n.heatAfter! / equity).toBeLessThanOrEqual(0.06 + eps);
              expect(n.openPositions! + 1).toBeLessThanOrEqual(2);
              expect(d.finalQuantity).toBeLessThanOrEqual(d.requestedQuantity);
              expect(d.finalQuantity * d.price * (1 + settings.feeRate)).toBeLessThanOrEqual(
                n.freeCash! + eps,
              );
            }
            if (e.type === 'OrderSubmitted') {
              const o = e.data as OrderSubmittedData;
              submitted.set(o.clientOrderId, o.quantity);
            }
            if (e.type === 'OrderFilled') {
              const f = e.data as OrderFilledData;
              filled.set(f.clientOrderId, (filled.get(f.clientOrderId) ?? 0) + f.quantity);
              expect(filled.get(f.clientOrderId)!).toBeLessThanOrEqual(submitted.get(f.clientOrderId)! + eps);
            }
          }
          const busy =
            kernel.openPositions().length +
            kernel
              .workingOrders()
              .filter(
                (o) => o.reason === 'entry' && !kernel.openPositions().some((p) => p.symbol === o.symbol),
              ).length;
          expect(busy).toBeLessThanOrEqual(2);
        }
      }),
      { numRuns: 120 },
    );
  });

  it('the same input events give byte-identical output events', () => {
    fc.assert(
      fc.property(marketArb, settingsArb, (market, settings) => {
        const s = scenario(market, settings);
        const first = JSON.stringify(runAll(kernelFor(s), s.events));
        const second = JSON.stringify(runAll(kernelFor(s), s.events));
        expect(second).toBe(first);
      }),
      { numRuns: 60 },
    );
  });

  it('snapshot and restore at any point continue exactly like an uninterrupted run', () => {
    fc.assert(
      fc.property(
        marketArb,
        settingsArb,
        fc.double({ min: 0, max: 1, noNaN: true }),
        (market, settings, where) => {
          const s = scenario(market, settings);
          const uninterrupted = kernelFor(s);
          const expected = runAll(uninterrupted, s.events);
          const cut = Math.floor(where * s.events.length);
          const before = kernelFor(s);
          const head = runAll(before, s.events.slice(0, cut));
          const saved = JSON.parse(JSON.stringify(before.snapshot()));
          const after = TradingKernel.restore(s.config, context(s), saved);
          const tail = runAll(after, s.events.slice(cut));
          expect(JSON.stringify([...head, ...tail])).toBe(JSON.stringify(expected));
          // Compared as JSON, as state is stored: a snapshot turns -0 into 0, which is no difference.
          expect(JSON.stringify(after.status())).toBe(JSON.stringify(uninterrupted.status()));
          expect(JSON.stringify(after.openPositions())).toBe(JSON.stringify(uninterrupted.openPositions()));
          expect(JSON.stringify(after.snapshot())).toBe(JSON.stringify(uninterrupted.snapshot()));
        },
      ),
      { numRuns: 100 },
    );
  });
});
