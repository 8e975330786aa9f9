import { defineEvent } from '../events/catalogue.js';
import { epochMs, type Infer, number, object, oneOf, string } from '../events/schema.js';
import { TIMEFRAMES } from './timeframe.js';

const SYMBOL = string({ pattern: /^[A-Z0-9]{1,20}\/[A-Z0-9]{1,20}$/, patternName: 'a symbol like BTC/USDT' });
const EXCHANGE = string({ pattern: /^[a-z0-9]{2,30}$/, patternName: 'an exchange id like binance' });
const TIMEFRAME = oneOf(Object.keys(TIMEFRAMES) as (keyof typeof TIMEFRAMES)[]);
const PRICE = number({ gt: 0 });

const candleClosedSchema = object({
  exchange: EXCHANGE,
  symbol: SYMBOL,
  timeframe: TIMEFRAME,
  openTime: epochMs,
  /** exclusive: openTime + timeframe */
  closeTime: epochMs,
  open: PRICE,
  high: PRICE,
  low: PRICE,
  close: PRICE,
  volume: number({ min: 0 }),
});
export type CandleClosedData = Infer<typeof candleClosedSchema>;

export const CandleClosed = defineEvent({
  type: 'CandleClosed',
  schemaVersion: 1,
  schema: candleClosedSchema,
  description: 'A closed OHLCV candle of one market (exchange, symbol, timeframe).',
});

const candleGapSchema = object({
  exchange: EXCHANGE,
  symbol: SYMBOL,
  timeframe: TIMEFRAME,
  /** open time of the first missing candle */
  from: epochMs,
  /** open time of the last missing candle */
  to: epochMs,
  missing: number({ integer: true, min: 1 }),
});
export type CandleGapDetectedData = Infer<typeof candleGapSchema>;

export const CandleGapDetected = defineEvent({
  type: 'CandleGapDetected',
  schemaVersion: 1,
  schema: candleGapSchema,
  description: 'Candles the exchange never published (an outage); recorded as a fact, never filled in.',
});

const marketRulesSchema = object({
  exchange: EXCHANGE,
  symbol: SYMBOL,
  /** smallest quantity step */
  amountStep: number({ gt: 0 }),
  /** smallest price step */
  priceStep: number({ gt: 0 }),
  minAmount: number({ min: 0 }),
  /** minimum order value in quote currency */
  minNotional: number({ min: 0 }),
});
export type MarketRulesObservedData = Infer<typeof marketRulesSchema>;

export const MarketRulesObserved = defineEvent({
  type: 'MarketRulesObserved',
  schemaVersion: 1,
  schema: marketRulesSchema,
  description: "An exchange's trading rules for a symbol: amount and price precision, minimum notional.",
});

export const marketEvents = [CandleClosed, CandleGapDetected, MarketRulesObserved];

/** One stream per exchange, symbol and timeframe: `market-binance-BTC_USDT-1h`. */
export function marketStream(exchange: string, symbol: string, timeframe: string): string {
  return `market-${exchange}-${symbol.replace('/', '_')}-${timeframe}`;
}

/**
 * One stream per exchange and symbol for its trading rules: `market-rules-binance-BTC_USDT`.
 * Not the candle streams: rules do not depend on the timeframe, and they are observed at the
 * time of a download (wall-clock), while a candle stream is ordered by market time and may be
 * filled with history long after.
 */
export function marketRulesStream(exchange: string, symbol: string): string {
  return `market-rules-${exchange}-${symbol.replace('/', '_')}`;
}
