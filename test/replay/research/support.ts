import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type CandleSeries, candleSeriesFromCandles } from '../../../src/replay/backtest/candle-series.js';

const FIXTURES = new URL('../../fixtures/candles/', import.meta.url).pathname;

export interface Row {
  openTime: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
}

/** The fixture's first `limit` hourly candles (3000 at most: 2017-08-17 04:00 to 2017-12-20 09:00). */
export function fixtureCandles(symbol: 'BTC' | 'ETH', limit = 3000): Row[] {
  const rows = JSON.parse(
    readFileSync(join(FIXTURES, `${symbol}_USDT-1h-first3000.json`), 'utf8'),
  ) as number[][];
  return rows.slice(0, limit).map(([openTime, open, high, low, close, volume]) => ({
    openTime: openTime!,
    open: open!,
    high: high!,
    low: low!,
    close: close!,
    volume: volume!,
  }));
}

export function fixtureSeries(
  symbols: ('BTC' | 'ETH')[] = ['BTC'],
  options: { shared?: boolean; limit?: number } = {},
): CandleSeries {
  return candleSeriesFromCandles(
    'binance',
    '1h',
    symbols.map((s) => [`${s}/USDT`, fixtureCandles(s, options.limit)] as const),
    { shared: options.shared ?? false },
  );
}
