/**
 * Cash and the account-level totals. Positions are kept by the kernel (one per symbol); every
 * fill goes through buy() or sell() here, which is the only place cash changes, so that
 *
 *   cash = initial cash - sum(buy notional) + sum(sell notional) - sum(fees)
 *
 * holds exactly (the property tests check it against the OrderFilled events).
 */
import type { Position } from './position.js';

export interface PortfolioSnapshot {
  initialCash: number;
  cash: number;
  fees: number;
  realisedPnl: number;
}

export class Portfolio {
  cash: number;
  /** all fees paid, quote currency */
  fees = 0;
  /** sum of closed positions' P&L (net of their fees) */
  realisedPnl = 0;

  constructor(readonly initialCash: number) {
    this.cash = initialCash;
  }

  buy(position: Position, quantity: number, price: number, fee: number): void {
    const notional = quantity * price;
    this.cash -= notional + fee;
    this.fees += fee;
    position.quantity += quantity;
    position.boughtQuantity += quantity;
    position.boughtCost += notional;
    position.entryFees += fee;
  }

  sell(position: Position, quantity: number, price: number, fee: number): void {
    const notional = quantity * price;
    this.cash += notional - fee;
    this.fees += fee;
    position.quantity -= quantity;
    position.soldQuantity += quantity;
    position.soldProceeds += notional;
    position.exitFees += fee;
  }

  close(pnl: number): void {
    this.realisedPnl += pnl;
  }

  snapshot(): PortfolioSnapshot {
    return { initialCash: this.initialCash, cash: this.cash, fees: this.fees, realisedPnl: this.realisedPnl };
  }

  static restore(snapshot: PortfolioSnapshot): Portfolio {
    const portfolio = new Portfolio(snapshot.initialCash);
    portfolio.cash = snapshot.cash;
    portfolio.fees = snapshot.fees;
    portfolio.realisedPnl = snapshot.realisedPnl;
    return portfolio;
  }
}
