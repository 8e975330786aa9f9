import type { SizingConfig } from './config.js';

/** A strategy's closed trades, summed so Kelly sizing can learn from them in O(1) state. */
export interface TradeStats {
  trades: number;
  wins: number;
  /** sum of returns (pnl / cost) of winning trades */
  sumWinReturn: number;
  /** sum of |returns| of losing trades (break-even trades count as losses of 0) */
  sumLossReturn: number;
}

export function emptyTradeStats(): TradeStats {
  return { trades: 0, wins: 0, sumWinReturn: 0, sumLossReturn: 0 };
}

export function addTrade(stats: TradeStats, tradeReturn: number): void {
  stats.trades++;
  if (tradeReturn > 0) {
    stats.wins++;
    stats.sumWinReturn += tradeReturn;
  } else {
    stats.sumLossReturn -= tradeReturn;
  }
}

export interface KellyEstimate {
  /** fraction of equity to commit, in [0, maxFraction] */
  fraction: number;
  winRate: number;
  payoff: number;
  /** full Kelly before the multiplier and the cap (may be negative: no edge) */
  kelly: number;
  /** 1 when winRate and payoff came from the strategy's closed trades, 0 from the priors */
  fromHistory: number;
}

/**
 * Kelly: f* = W - (1 - W) / R. A strategy without losses yet has R = Infinity, so f* = W; one
 * without wins has R = 0, and f* (which tends to minus infinity) is reported as -1: no edge.
 */
export function kellyEstimate(
  sizing: Extract<SizingConfig, { mode: 'kelly' }>,
  stats: TradeStats,
): KellyEstimate {
  const fromHistory = stats.trades >= sizing.minTrades;
  let winRate = sizing.winRate;
  let payoff = sizing.payoff;
  if (fromHistory) {
    const losses = stats.trades - stats.wins;
    winRate = stats.wins / stats.trades;
    const averageWin = stats.wins > 0 ? stats.sumWinReturn / stats.wins : 0;
    const averageLoss = losses > 0 ? stats.sumLossReturn / losses : 0;
    payoff = averageLoss > 0 ? averageWin / averageLoss : Number.POSITIVE_INFINITY;
  }
  const kelly =
    payoff === Number.POSITIVE_INFINITY ? winRate : payoff > 0 ? winRate - (1 - winRate) / payoff : -1;
  const fraction = Math.min(sizing.maxFraction, Math.max(0, sizing.multiplier * kelly));
  return { fraction, winRate, payoff, kelly, fromHistory: fromHistory ? 1 : 0 };
}
