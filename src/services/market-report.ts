import { ConfigError, type TradekernelError } from '../domain/errors.js';
import type { CandleGap } from '../domain/market/gaps.js';
import { parseSymbol } from '../domain/market/symbol.js';
import { isTimeframe, TIMEFRAMES, type Timeframe } from '../domain/market/timeframe.js';

/**
 * Shapes shared by the market-data use cases' reports. Times are ISO-8601 UTC strings with
 * milliseconds (`2021-01-01T00:00:00.000Z`); the JSON output of the CLI prints these objects as
 * they are, so they are documented in docs/market-data.md and kept stable.
 */

export interface GapReport {
  /** open time of the first missing candle */
  from: string;
  /** open time of the last missing candle */
  to: string;
  missing: number;
}

export interface ErrorReport {
  code: string;
  message: string;
  hint: string | null;
}

export function isoTime(ms: number): string {
  return new Date(ms).toISOString();
}

export function isoOrNull(ms: number | undefined | null): string | null {
  return ms === undefined || ms === null ? null : isoTime(ms);
}

export function gapReport(gap: CandleGap): GapReport {
  return { from: isoTime(gap.from), to: isoTime(gap.to), missing: gap.missing };
}

export function errorReport(error: TradekernelError): ErrorReport {
  return { code: error.code, message: error.message, hint: error.hint ?? null };
}

const EXCHANGE_ID = /^[a-z0-9]{2,30}$/;

/** An exchange id as market streams name it (ccxt's ids: binance, kraken, ...). */
export function parseExchange(value: string, flag = '--exchange'): string {
  const id = value.trim().toLowerCase();
  if (!EXCHANGE_ID.test(id)) {
    throw new ConfigError(
      `${flag} "${value}" is not an exchange id`,
      'use the ccxt id of the exchange, for example --exchange binance',
    );
  }
  return id;
}

const SPOT_SYMBOL = /^[A-Z0-9]{1,20}\/[A-Z0-9]{1,20}$/;

/** A spot symbol BASE/QUOTE from what a user typed (BTC/USDT, btc-usdt, BTCUSDT...). */
export function parseSpotSymbol(value: string, flag = '--symbol'): string {
  const symbol = parseSymbol(value);
  if (symbol === null) {
    throw new ConfigError(
      `${flag} "${value}" is not a symbol`,
      'write it as BASE/QUOTE, for example BTC/USDT',
    );
  }
  return requireSpot(symbol, flag);
}

/** Market streams hold spot markets; a futures symbol (BTC/USDT:USDT) is refused clearly. */
export function requireSpot(symbol: string, where: string): string {
  if (!SPOT_SYMBOL.test(symbol)) {
    throw new ConfigError(
      `${where}: ${symbol} is a futures (or otherwise unsupported) market; market streams hold spot markets only`,
      'import spot candles, e.g. --symbol BTC/USDT',
    );
  }
  return symbol;
}

export function parseTimeframeOption(value: string, flag = '--timeframe'): Timeframe {
  if (isTimeframe(value)) return value;
  throw new ConfigError(
    `${flag} "${value}" is not a timeframe`,
    `use one of ${Object.keys(TIMEFRAMES).join(', ')}`,
  );
}

/** Timeframes ordered by length, for listings. */
export function compareTimeframes(a: string, b: string): number {
  const la = isTimeframe(a) ? TIMEFRAMES[a] : Number.MAX_SAFE_INTEGER;
  const lb = isTimeframe(b) ? TIMEFRAMES[b] : Number.MAX_SAFE_INTEGER;
  return la - lb || a.localeCompare(b);
}
