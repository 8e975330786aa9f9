import type { Candle } from '../market/candle.js';
import type { ObservedMarketRules } from '../market/market-rules.js';
import type { Timeframe } from '../market/timeframe.js';

/**
 * Where candles come from when they are not in a file: an exchange's public market-data API.
 * The domain owns this port; src/adapters/exchange implements it with ccxt. The download use
 * case pages through history with it, and the paper-trading loop polls the newest candles.
 */
export interface CandleSource {
  /** The exchange id (ccxt's, e.g. `binance`): the `exchange` of the market streams it feeds. */
  readonly exchange: string;
  /** Where requests go, for messages (an URL). */
  readonly location: string;
  /** The most candles one fetchCandles call returns. */
  readonly maxPageSize: number;
  /**
   * Up to `limit` candles of one market opening at or after `since` (epoch ms), oldest first, as
   * the exchange publishes them: unvalidated, and the last one may still be open (forming). A
   * market with no candles at or after `since` yields []; an outage is skipped over, so the
   * next candle after a hole is returned.
   *
   * Transient failures (network errors, timeouts, 5xx, rate limiting) are retried with back-off
   * inside; an exchange that stays unreachable throws UnavailableError. An unknown symbol or an
   * unsupported timeframe throws ConfigError.
   */
  fetchCandles(symbol: string, timeframe: Timeframe, since: number, limit: number): Promise<Candle[]>;
  /**
   * The market's trading rules as the exchange lists them now (amount and price steps,
   * minimums); null when the exchange does not publish them in a form that maps onto steps.
   * Optional: a source without it records no MarketRulesObserved. Errors as fetchCandles.
   */
  marketRules?(symbol: string): Promise<ObservedMarketRules | null>;
  close(): Promise<void>;
}
