import { defineEvent } from '../events/catalogue.js';
import { epochMs, type Infer, nullable, number, object, oneOf } from '../events/schema.js';
import {
  ACCOUNT,
  AMOUNT,
  CLIENT_ORDER_ID,
  MONEY,
  PRICE,
  QUANTITY,
  STRATEGY_NAME,
  SYMBOL,
  VERSION,
} from '../kernel/event-fields.js';

const positionOpenedSchema = object({
  account: ACCOUNT,
  positionId: CLIENT_ORDER_ID,
  symbol: SYMBOL,
  side: oneOf(['long'] as const),
  strategy: STRATEGY_NAME,
  strategyVersion: VERSION,
  /** quantity of the first entry fill (later fills of the entry order add to it) */
  quantity: QUANTITY,
  entryPrice: PRICE,
  entryFee: AMOUNT,
  /** the protection attached to the position, anchored on the entry price */
  stopPrice: nullable(PRICE),
  takeProfitPrice: nullable(PRICE),
  trailingDistance: nullable(PRICE),
  timeStopCandles: nullable(number({ integer: true, min: 1 })),
});
export type PositionOpenedData = Infer<typeof positionOpenedSchema>;

export const PositionOpened = defineEvent({
  type: 'PositionOpened',
  schemaVersion: 1,
  schema: positionOpenedSchema,
  description: 'The first fill of an entry opened a position, with its stop and take-profit.',
});

export const EXIT_REASONS = [
  'exit',
  'stop-loss',
  'take-profit',
  'trailing-stop',
  'time-stop',
  'liquidation',
] as const;
export type ExitReason = (typeof EXIT_REASONS)[number];

const positionClosedSchema = object({
  account: ACCOUNT,
  positionId: CLIENT_ORDER_ID,
  symbol: SYMBOL,
  side: oneOf(['long'] as const),
  strategy: STRATEGY_NAME,
  strategyVersion: VERSION,
  quantity: QUANTITY,
  /** volume-weighted prices of all entry and exit fills */
  entryPrice: PRICE,
  exitPrice: PRICE,
  entryTime: epochMs,
  exitTime: epochMs,
  /** entry and exit fees, quote currency */
  fees: AMOUNT,
  /** exit proceeds - entry cost - fees */
  realisedPnl: MONEY,
  /** realisedPnl / entry cost */
  pnlPct: number(),
  /** realisedPnl / the risk taken at entry (quantity x stop distance); null without a stop */
  rMultiple: nullable(number()),
  exitReason: oneOf(EXIT_REASONS),
});
export type PositionClosedData = Infer<typeof positionClosedSchema>;

export const PositionClosed = defineEvent({
  type: 'PositionClosed',
  schemaVersion: 1,
  schema: positionClosedSchema,
  description: 'The last exit fill closed a position: realised P&L, R-multiple, exit reason.',
});

export const portfolioEvents = [PositionOpened, PositionClosed];
