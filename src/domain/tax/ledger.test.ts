import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { disposals, type Fill, LedgerError, totals } from './ledger.js';

const buy = (time: number, price: number, quantity: number, fee = 0): Fill => ({
  time,
  symbol: 'BTC/USDT',
  side: 'buy',
  price,
  quantity,
  fee,
  orderId: `b${time}`,
});
const sell = (time: number, price: number, quantity: number, fee = 0): Fill => ({
  time,
  symbol: 'BTC/USDT',
  side: 'sell',
  price,
  quantity,
  fee,
  orderId: `s${time}`,
});

describe('tax lots', () => {
  const fills = [buy(1, 100, 1, 1), buy(2, 300, 1, 3), buy(3, 200, 1, 2), sell(4, 250, 2, 5)];

  it('FIFO sells the oldest lots first, with fees allocated pro rata', () => {
    const rows = disposals(fills, 'fifo');
    expect(rows.map((r) => [r.acquiredAt, r.quantity, r.costBasis, r.proceeds, r.fees, r.gain])).toEqual([
      [1, 1, 101, 250, 2.5, 146.5],
      [2, 1, 303, 250, 2.5, -55.5],
    ]);
  });

  it('LIFO sells the newest, HIFO the dearest', () => {
    expect(disposals(fills, 'lifo').map((r) => r.acquiredAt)).toEqual([3, 2]);
    expect(disposals(fills, 'hifo').map((r) => r.acquiredAt)).toEqual([2, 3]);
  });

  it('splits a lot across sales and refuses selling what is not held', () => {
    const rows = disposals([buy(1, 10, 2), sell(2, 12, 0.5), sell(3, 13, 1.5)], 'fifo');
    expect(rows.map((r) => [r.quantity, r.costBasis, r.proceeds])).toEqual([
      [0.5, 5, 6],
      [1.5, 15, 19.5],
    ]);
    expect(() => disposals([buy(1, 10, 1), sell(2, 10, 2)], 'fifo')).toThrow(LedgerError);
  });

  it('over closed positions the gains equal proceeds − purchases − all fees, whatever the method (property)', () => {
    const position = fc.record({
      entries: fc.array(
        fc.record({
          price: fc.double({ min: 1, max: 1e5, noNaN: true }),
          quantity: fc.double({ min: 0.001, max: 10, noNaN: true }),
        }),
        { minLength: 1, maxLength: 4 },
      ),
      exitPrice: fc.double({ min: 1, max: 1e5, noNaN: true }),
      exits: fc.integer({ min: 1, max: 3 }),
    });
    fc.assert(
      fc.property(
        fc.array(position, { minLength: 1, maxLength: 5 }),
        fc.constantFrom('fifo' as const, 'lifo' as const, 'hifo' as const),
        (positions, method) => {
          const all: Fill[] = [];
          let t = 0;
          let expected = 0;
          for (const p of positions) {
            let held = 0;
            for (const e of p.entries) {
              const fee = e.price * e.quantity * 0.001;
              all.push(buy(t++, e.price, e.quantity, fee));
              held += e.quantity;
              expected -= e.price * e.quantity + fee;
            }
            for (let k = 0; k < p.exits; k++) {
              const quantity = k === p.exits - 1 ? held - (held / p.exits) * (p.exits - 1) : held / p.exits;
              const fee = p.exitPrice * quantity * 0.001;
              all.push(sell(t++, p.exitPrice, quantity, fee));
              expected += p.exitPrice * quantity - fee;
            }
          }
          const gain = totals(disposals(all, method)).gain;
          expect(Math.abs(gain - expected)).toBeLessThanOrEqual(
            1e-9 * Math.max(1, Math.abs(expected), totals(disposals(all, method)).proceeds),
          );
        },
      ),
    );
  });
});
