import { readMarketFile } from '../../src/adapters/market-files/index.js';
import type { Candle } from '../../src/domain/market/candle.js';
import type { AllocateOptions, CandleSeries } from '../../src/replay/backtest/candle-series.js';
import { candleSeriesFromCandles } from '../../src/replay/backtest/candle-series.js';

/** The real-data fixtures: the first 3,000 hours of Binance BTC/USDT and ETH/USDT (from 2017-08-17). */
export const FIXTURES: Record<string, string> = {
  'BTC/USDT': new URL('../fixtures/candles/BTC_USDT-1h-first3000.json', import.meta.url).pathname,
  'ETH/USDT': new URL('../fixtures/candles/ETH_USDT-1h-first3000.json', import.meta.url).pathname,
};

const cache = new Map<string, Candle[]>();

export async function fixtureCandles(symbol: string): Promise<Candle[]> {
  const cached = cache.get(symbol);
  if (cached) return cached;
  const candles = (await readMarketFile(FIXTURES[symbol]!)).candles.map(
    ({ openTime, open, high, low, close, volume }) => ({ openTime, open, high, low, close, volume }),
  );
  cache.set(symbol, candles);
  return candles;
}

export async function fixtureSeries(
  symbols: readonly string[],
  options: AllocateOptions = {},
): Promise<CandleSeries> {
  const pairs = await Promise.all(symbols.map(async (s) => [s, await fixtureCandles(s)] as const));
  return candleSeriesFromCandles('binance', '1h', pairs, options);
}

/** First and last open time of the fixtures (both start 2017-08-17T04:00Z, 3,000 candles with one 6-hour outage). */
export const FIXTURE_FROM = Date.parse('2017-08-17T00:00:00Z');
export const FIXTURE_TO = Date.parse('2017-12-20T10:00:00Z');
