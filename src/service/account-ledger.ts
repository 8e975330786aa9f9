/**
 * What the service keeps in memory about the account's decisions, bounded so that a service
 * running for months does not grow with its log: the closed trades (small, and every report
 * needs them all), the client order ids still open (for reconciliation), and the decisions of
 * the last few days (what the daily and weekly reports list). Everything else stays in the log.
 */
import type { NewEvent } from '../domain/events/envelope.js';
import type { PositionClosedData } from '../domain/portfolio/events.js';
import type { ClosedTrade } from '../domain/portfolio/position.js';

const TERMINAL_ORDER_TYPES = new Set(['OrderCancelled', 'OrderExpired', 'OrderRejected']);
const DAY = 86_400_000;

export class AccountLedger {
  readonly trades: ClosedTrade[] = [];
  /** submitted and not yet terminal (filled in full, cancelled, expired, rejected) */
  readonly openOrders = new Set<string>();
  submitted = 0;
  terminal = 0;
  private recentEvents: NewEvent[] = [];
  /** decisions occurred at or after (newest - keepDays) are kept */
  constructor(private readonly keepDays = 8) {}

  /** decisions of the last `keepDays` days of event time, in log order */
  get recent(): readonly NewEvent[] {
    return this.recentEvents;
  }

  add(events: readonly NewEvent[]): void {
    for (const e of events) {
      this.note(e);
      this.recentEvents.push(e);
    }
    const newest = this.recentEvents[this.recentEvents.length - 1]?.metadata.occurredAt;
    if (newest === undefined) return;
    const keepFrom = newest - this.keepDays * DAY;
    let drop = 0;
    while (drop < this.recentEvents.length && this.recentEvents[drop]!.metadata.occurredAt < keepFrom) drop++;
    // drop in chunks: splicing one event off the front every cycle would copy the array each time
    if (drop > 64 || drop === this.recentEvents.length) this.recentEvents = this.recentEvents.slice(drop);
  }

  private note(e: NewEvent): void {
    const d = e.data as { clientOrderId?: string; remainingQuantity?: number };
    if (e.type === 'PositionClosed') this.trades.push(closedTradeOf(e.data as PositionClosedData));
    if (!d.clientOrderId) return;
    if (e.type === 'OrderSubmitted') {
      this.submitted++;
      this.openOrders.add(d.clientOrderId);
    } else if (TERMINAL_ORDER_TYPES.has(e.type) || (e.type === 'OrderFilled' && d.remainingQuantity === 0)) {
      if (this.openOrders.delete(d.clientOrderId)) this.terminal++;
    }
  }
}

function closedTradeOf(d: PositionClosedData): ClosedTrade {
  return {
    positionId: d.positionId,
    symbol: d.symbol,
    strategy: d.strategy,
    side: d.side,
    entryTime: d.entryTime,
    entryPrice: d.entryPrice,
    exitTime: d.exitTime,
    exitPrice: d.exitPrice,
    quantity: d.quantity,
    fees: d.fees,
    pnl: d.realisedPnl,
    pnlPct: d.pnlPct,
    rMultiple: d.rMultiple,
    exitReason: d.exitReason,
  };
}
