import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { candleEvent, run } from '../kernel/testing/candle-events.js';
import { bar, ofType, testKernel } from '../kernel/testing/fixture.js';
import { scriptedStrategy } from '../kernel/testing/scripted-strategy.js';
import type { OrderFilledData } from '../orders/events.js';
import type { PositionClosedData } from '../portfolio/events.js';
import { disposals, type Fill, LOT_METHODS, totals } from './ledger.js';

describe('tax ledger against the kernel', () => {
  it("the disposals' gains reconcile with the portfolio's realised P&L, for every method (property)", () => {
    let closedPositions = 0;
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            move: fc.double({ min: -0.05, max: 0.05, noNaN: true }),
            action: fc.constantFrom(null, null, 'long', 'exit'),
          }),
          { minLength: 10, maxLength: 80 },
        ),
        fc.constantFrom(...LOT_METHODS),
        (steps, method) => {
          const actions: Record<number, 'long' | 'exit'> = {};
          let price = 100;
          const bars = steps.map((s, i) => {
            const open = price;
            price = Math.max(1, price * (1 + s.move));
            const b = bar(i, open, Math.max(open, price) * 1.01, Math.min(open, price) * 0.99, price);
            if (s.action) actions[b.openTime] = s.action;
            return b;
          });
          const kernel = testKernel({ strategies: [scriptedStrategy(actions)] });
          const out = run(
            kernel,
            bars.map((b) => candleEvent('BTC/USDT', b)),
          );
          const fills: Fill[] = out
            .filter((e) => e.type === 'OrderFilled')
            .map((e) => {
              const d = e.data as OrderFilledData;
              return {
                time: e.metadata.occurredAt,
                symbol: d.symbol,
                side: d.side,
                price: d.price,
                quantity: d.quantity,
                fee: d.fee,
                orderId: d.positionId,
              };
            });
          const closed = new Set(ofType<PositionClosedData>(out, 'PositionClosed').map((p) => p.positionId));
          closedPositions += closed.size;
          const realised = ofType<PositionClosedData>(out, 'PositionClosed').reduce(
            (s, p) => s + p.realisedPnl,
            0,
          );
          // gains of the sells that belong to closed positions (an open position may have sold part)
          const gain = totals(disposals(fills, method).filter((d) => closed.has(d.sellOrderId))).gain;
          expect(Math.abs(gain - realised)).toBeLessThanOrEqual(
            1e-9 * Math.max(1, Math.abs(realised)) + 1e-9,
          );
        },
      ),
      { numRuns: 80 },
    );
    expect(closedPositions).toBeGreaterThan(20); // the property ran on real round trips
  });
});
