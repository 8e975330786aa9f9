/** Portfolio: cash, positions and their accounting, closed trades, the equity curve. */
export { EquityCurve } from './equity-curve.js';
export {
  EXIT_REASONS,
  type ExitReason,
  PositionClosed,
  type PositionClosedData,
  PositionOpened,
  type PositionOpenedData,
  portfolioEvents,
} from './events.js';
export { Portfolio, type PortfolioSnapshot } from './portfolio.js';
export { averageEntryPrice, type ClosedTrade, closedTrade, openPnl, type Position } from './position.js';
