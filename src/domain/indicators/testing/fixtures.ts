/**
 * Real candles for the indicator tests, read from small slices in test/fixtures/candles:
 * - BTC_USDT-1h-first3000.json, ETH_USDT-1h-first3000.json: the first 3,000 hourly candles
 *   (2017-08-17 onwards) of /work/shared/data/binance-spot/freqtrade-1h/*.json, same format
 *   [[openTimeMs, open, high, low, close, volume], ...];
 * - BTCUSDT-1m-2021-05-19.csv: one day of 1-minute Binance klines (the 19 May 2021 crash),
 *   copied unchanged from klines-1m/BTCUSDT (12 columns, no header).
 * Test support only: reads files, so it must never be imported by indicator code.
 */
import { readFileSync } from 'node:fs';

export interface Bars {
  readonly name: string;
  readonly openTime: readonly number[];
  readonly open: readonly number[];
  readonly high: readonly number[];
  readonly low: readonly number[];
  readonly close: readonly number[];
}

const FIXTURES = new URL('../../../../test/fixtures/candles/', import.meta.url);
const cache = new Map<string, Bars>();

function fromRows(name: string, rows: readonly (readonly number[])[]): Bars {
  const column = (i: number) => rows.map((row) => row[i]!);
  return { name, openTime: column(0), open: column(1), high: column(2), low: column(3), close: column(4) };
}

function cached(name: string, load: () => Bars): Bars {
  let bars = cache.get(name);
  if (!bars) {
    bars = load();
    cache.set(name, bars);
  }
  return bars;
}

export function hourly(symbol: 'BTC' | 'ETH'): Bars {
  return cached(`${symbol} 1h`, () => {
    const text = readFileSync(new URL(`${symbol}_USDT-1h-first3000.json`, FIXTURES), 'utf8');
    return fromRows(`${symbol} 1h`, JSON.parse(text) as number[][]);
  });
}

export function btcMinutes20210519(): Bars {
  return cached('BTC 1m 2021-05-19', () => {
    const text = readFileSync(new URL('BTCUSDT-1m-2021-05-19.csv', FIXTURES), 'utf8');
    const rows = text
      .trim()
      .split('\n')
      .map((line) => line.split(',').slice(0, 6).map(Number));
    return fromRows('BTC 1m 2021-05-19', rows);
  });
}

/** The same candles with every price multiplied by `factor` (e.g. 1e-9: BTC priced ~0.00001). */
export function scaled(bars: Bars, factor: number): Bars {
  const times = (xs: readonly number[]) => xs.map((x) => x * factor);
  return {
    name: `${bars.name} x ${factor}`,
    openTime: bars.openTime,
    open: times(bars.open),
    high: times(bars.high),
    low: times(bars.low),
    close: times(bars.close),
  };
}

/** Simple returns close[i] / close[i - 1] - 1; one shorter than the input. */
export function simpleReturns(closes: readonly number[]): number[] {
  return closes.slice(1).map((close, i) => close / closes[i]! - 1);
}
