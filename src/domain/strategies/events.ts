import { defineEvent } from '../events/catalogue.js';
import {
  epochMs,
  type Infer,
  number,
  numberRecord,
  object,
  oneOf,
  optional,
  string,
} from '../events/schema.js';
import { ACCOUNT, PRICE, STRATEGY_NAME, SYMBOL, VERSION } from '../kernel/event-fields.js';

export const SIGNAL_DIRECTIONS = ['long', 'exit'] as const;
export type SignalDirection = (typeof SIGNAL_DIRECTIONS)[number];

const signalEmittedSchema = object({
  account: ACCOUNT,
  strategy: STRATEGY_NAME,
  strategyVersion: VERSION,
  /** the strategy's parameters, so the signal can be reproduced from the log alone */
  params: numberRecord(),
  symbol: SYMBOL,
  timeframe: string({ maxLength: 10 }),
  direction: oneOf(SIGNAL_DIRECTIONS),
  confidence: number({ min: 0, max: 1 }),
  /** close of the candle the signal was computed on */
  price: PRICE,
  candleOpenTime: epochMs,
  /** the indicator values the rule compared */
  indicators: numberRecord(),
  /** expected return over the horizon (a fraction), for strategies that forecast one */
  expectedReturn: optional(number()),
  horizonMs: optional(number({ integer: true, gt: 0 })),
});
export type SignalEmittedData = Infer<typeof signalEmittedSchema>;

export const SignalEmitted = defineEvent({
  type: 'SignalEmitted',
  schemaVersion: 1,
  schema: signalEmittedSchema,
  description: 'A strategy saw its rule fire on a closed candle (caused by that candle event).',
});

export const strategyEvents = [SignalEmitted];
