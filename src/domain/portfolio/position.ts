/**
 * A long spot position and its accounting. Entry and exit fills accumulate separately (cost,
 * proceeds, fees), so prices are volume-weighted and the P&L is exact sums of the fills:
 *
 *   realised P&L = exit proceeds - entry cost - all fees
 *   open P&L     = quantity x mark + exit proceeds - entry cost - fees so far
 */
import type { ProtectionPlan } from '../risk/entry-decision.js';
import type { ExitReason } from './events.js';

export interface Position {
  /** named by the entry order's client order id */
  readonly id: string;
  readonly symbol: string;
  readonly strategy: string;
  readonly strategyVersion: string;
  /** what the position holds now */
  quantity: number;
  boughtQuantity: number;
  /** sum of price x quantity of entry fills */
  boughtCost: number;
  soldQuantity: number;
  soldProceeds: number;
  entryFees: number;
  exitFees: number;
  /** time of the first entry fill */
  readonly openedAt: number;
  /** the symbol's candle count at the first entry fill (time stops count candles from it) */
  readonly openedCandle: number;
  readonly protection: ProtectionPlan;
  /** levels anchored on the average entry price; null when that protection is off */
  stopPrice: number | null;
  takeProfitPrice: number | null;
  /** highest high since entry, for the trailing stop (starts at the entry price) */
  highWater: number;
  /**
   * the trailing stop at that high water (rounded up to the price step); 0 without one. Kept
   * with it rather than rounded again on every candle the position is held.
   */
  trailingStop: number;
  /** correlation id of the chain that opened it */
  readonly correlationId: string;
}

export interface ClosedTrade {
  readonly positionId: string;
  readonly symbol: string;
  readonly strategy: string;
  readonly side: 'long';
  readonly entryTime: number;
  /** volume-weighted entry price */
  readonly entryPrice: number;
  readonly exitTime: number;
  readonly exitPrice: number;
  readonly quantity: number;
  /** entry and exit fees, quote currency */
  readonly fees: number;
  /** net of fees */
  readonly pnl: number;
  /** pnl / entry cost */
  readonly pnlPct: number;
  /** pnl / (quantity x stop distance); null without a stop */
  readonly rMultiple: number | null;
  readonly exitReason: ExitReason;
}

export function averageEntryPrice(position: Position): number {
  return position.boughtCost / position.boughtQuantity;
}

export function openPnl(position: Position, mark: number): number {
  return (
    position.quantity * mark +
    position.soldProceeds -
    position.boughtCost -
    position.entryFees -
    position.exitFees
  );
}

/** The trade a position became once its last unit was sold. */
export function closedTrade(position: Position, exitTime: number, exitReason: ExitReason): ClosedTrade {
  const fees = position.entryFees + position.exitFees;
  const pnl = position.soldProceeds - position.boughtCost - fees;
  const risk =
    position.protection.stopDistance === null
      ? null
      : position.boughtQuantity * position.protection.stopDistance;
  return {
    positionId: position.id,
    symbol: position.symbol,
    strategy: position.strategy,
    side: 'long',
    entryTime: position.openedAt,
    entryPrice: averageEntryPrice(position),
    exitTime,
    exitPrice: position.soldProceeds / position.soldQuantity,
    quantity: position.boughtQuantity,
    fees,
    pnl,
    pnlPct: pnl / position.boughtCost,
    rMultiple: risk !== null && risk > 0 ? pnl / risk : null,
    exitReason,
  };
}
