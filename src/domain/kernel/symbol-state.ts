/** What the kernel keeps per symbol: market rules, indicators, strategy instances, position, order. */
import { type MarketGrid, type MarketRules, marketGrid } from '../execution/market-rules.js';
import type { Atr } from '../indicators/atr.js';
import type { Order } from '../orders/order.js';
import type { Position } from '../portfolio/position.js';
import type { ProtectionPlan } from '../risk/entry-decision.js';
import type { ReturnsWindow } from '../risk/returns-window.js';
import type { StrategyInstance } from '../strategies/strategy.js';

/**
 * The one order working in a symbol. One is enough: an entry, or an exit, never both (an exit
 * cancels the rest of an entry first), and attached stops and take-profits are part of the
 * position until they fire.
 */
export interface WorkingOrder {
  readonly order: Order;
  /** id of its OrderSubmitted event: the causation of its fills */
  readonly eventId: string;
  readonly correlationId: string;
  readonly positionId: string;
  /** the strategy an entry is for */
  readonly strategyIndex: number;
  /** entries: the approved protection, anchored on the entry price when it fills */
  readonly protection: ProtectionPlan | null;
}

export interface PendingControl {
  readonly type: 'KillSwitchEngaged' | 'LiquidationRequested';
  /** the request's time: candles opening at or after it take the control */
  readonly from: number;
  /** the control event: the causation of what it does */
  readonly eventId: string;
}

export class SymbolState {
  grid: MarketGrid;
  /** open time of the last candle seen; -Infinity before the first */
  lastOpenTime = Number.NEGATIVE_INFINITY;
  /** the mark: the last close; NaN before the first candle */
  lastClose = Number.NaN;
  /** candles seen (time stops count them) */
  candles = 0;
  position: Position | null = null;
  working: WorkingOrder | null = null;
  /**
   * Kill switches and liquidations requested after this symbol's next open, in request order:
   * each cancels or places its orders here at the first candle that opens at or after its
   * request (what traded before it had already traded), then leaves the list.
   */
  pendingControls: PendingControl[] = [];

  constructor(
    readonly symbol: string,
    /** position in the context's symbol list */
    readonly index: number,
    rules: MarketRules,
    readonly atr: Atr,
    readonly returns: ReturnsWindow | null,
    readonly strategies: StrategyInstance[],
  ) {
    this.grid = marketGrid(rules);
  }
}
