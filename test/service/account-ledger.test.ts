import { describe, expect, it } from 'vitest';
import type { NewEvent } from '../../src/domain/events/envelope.js';
import { AccountLedger } from '../../src/service/account-ledger.js';

/** The service's in-memory view of its decisions stays bounded however long it runs. */
const HOUR = 3_600_000;
const event = (type: string, at: number, data: Record<string, unknown> = {}): NewEvent => ({
  id: `${type}-${at}`,
  type,
  data,
  metadata: { occurredAt: at, causationId: null, correlationId: `${at}`, schemaVersion: 1 },
});

describe('account ledger', () => {
  it('keeps every trade and the open orders, but only the last days of decisions', () => {
    const ledger = new AccountLedger(8);
    const all: NewEvent[] = [];
    // 400 days of one signal an hour, an order every 10 hours filled at once, a trade a day
    for (let h = 0; h < 400 * 24; h++) {
      const at = h * HOUR;
      const batch = [event('SignalEmitted', at)];
      if (h % 10 === 0) {
        batch.push(event('OrderSubmitted', at, { clientOrderId: `o${h}` }));
        if (h < 399 * 24)
          batch.push(event('OrderFilled', at, { clientOrderId: `o${h}`, remainingQuantity: 0 }));
      }
      if (h % 24 === 23)
        batch.push(
          event('PositionClosed', at, { positionId: `p${h}`, realisedPnl: 1, exitReason: 'exit-signal' }),
        );
      ledger.add(batch);
      all.push(...batch);
    }
    expect(ledger.trades).toHaveLength(400);
    expect(ledger.trades[0]).toMatchObject({ positionId: 'p23', pnl: 1 });
    expect(ledger.submitted).toBe(960);
    // the orders of the last day were never filled: still open
    expect([...ledger.openOrders]).toEqual(['o9580', 'o9590']);
    expect(ledger.terminal).toBe(958);
    // recent: every decision of the last 8 days, plus at most one trimming chunk (64) older
    const newest = 400 * 24 * HOUR - HOUR;
    const lastEightDays = ledger.recent.filter((e) => e.metadata.occurredAt >= newest - 8 * 24 * HOUR);
    const cutoff = newest - 8 * 24 * HOUR;
    expect(lastEightDays.map((e) => e.id)).toEqual(
      all.filter((e) => e.metadata.occurredAt >= cutoff).map((e) => e.id),
    );
    expect(ledger.recent.length - lastEightDays.length).toBeLessThanOrEqual(64);
    expect(ledger.recent.at(-1)!.metadata.occurredAt).toBe(newest);
  });
});
