import { defineEvent } from '../events/catalogue.js';
import {
  array,
  epochMs,
  type Infer,
  nullable,
  number,
  numberRecord,
  object,
  oneOf,
  string,
} from '../events/schema.js';
import { ACCOUNT, PRICE, REASON_TEXT, STRATEGY_NAME, SYMBOL, VERSION } from '../kernel/event-fields.js';
import { SIGNAL_DIRECTIONS } from '../strategies/events.js';

export const RISK_OUTCOMES = ['approved', 'resized', 'rejected'] as const;
export type RiskOutcome = (typeof RISK_OUTCOMES)[number];

export const CHECK_OUTCOMES = ['pass', 'resize', 'reject', 'off'] as const;
export type CheckOutcome = (typeof CHECK_OUTCOMES)[number];

/** One rule's verdict and the numbers it compared. */
const riskCheckSchema = object({
  rule: string({ maxLength: 50 }),
  outcome: oneOf(CHECK_OUTCOMES),
  /** what the rule measured (at the requested quantity), in the rule's unit */
  value: nullable(number()),
  limit: nullable(number()),
  /** the largest quantity this rule allows, when it caps quantities */
  maxQuantity: nullable(number({ min: 0 })),
});
export type RiskCheck = Infer<typeof riskCheckSchema>;

const riskDecisionSchema = object({
  account: ACCOUNT,
  symbol: SYMBOL,
  strategy: STRATEGY_NAME,
  strategyVersion: VERSION,
  direction: oneOf(SIGNAL_DIRECTIONS),
  outcome: oneOf(RISK_OUTCOMES),
  /** the rule that decided: the one that rejected, or capped the quantity last, or `sizing` */
  rule: string({ maxLength: 50 }),
  reason: REASON_TEXT,
  /** version of the risk rules that decided */
  riskVersion: VERSION,
  /** quantity from the sizing rule alone, on the amount grid */
  requestedQuantity: number({ min: 0 }),
  finalQuantity: number({ min: 0 }),
  /** the signal candle's close: the price sizing used */
  price: PRICE,
  stopPrice: nullable(PRICE),
  takeProfitPrice: nullable(PRICE),
  /** every number the rules used: equity, cash, ATR, stop distance, risk, heat, exposure, drawdown… */
  numbers: numberRecord(),
  /** each rule in the order evaluated; rules switched off appear as `off` */
  checks: array(riskCheckSchema, { maxLength: 50 }),
});
export type RiskDecisionMadeData = Infer<typeof riskDecisionSchema>;

export const RiskDecisionMade = defineEvent({
  type: 'RiskDecisionMade',
  schemaVersion: 1,
  schema: riskDecisionSchema,
  description: 'The risk manager approved, resized or rejected a signal, naming the rule and the numbers.',
});

export const HALT_RULES = [
  'drawdown',
  'daily-loss-limit',
  'weekly-loss-limit',
  'monthly-loss-limit',
] as const;
export type HaltRule = (typeof HALT_RULES)[number];

const tradingHaltedSchema = object({
  account: ACCOUNT,
  rule: oneOf(HALT_RULES),
  reason: REASON_TEXT,
  equity: number(),
  /** the equity peak (drawdown) or the equity at the start of the period (loss limits) */
  referenceEquity: number(),
  /** loss as a fraction of referenceEquity */
  loss: number(),
  limit: number(),
  /** new entries resume at this time; null: only when the owner resumes trading */
  until: nullable(epochMs),
});
export type TradingHaltedData = Infer<typeof tradingHaltedSchema>;

export const TradingHalted = defineEvent({
  type: 'TradingHalted',
  schemaVersion: 1,
  schema: tradingHaltedSchema,
  description: 'A drawdown or loss limit was reached: no new entries until the time given (or a resume).',
});

export const riskEvents = [RiskDecisionMade, TradingHalted];
