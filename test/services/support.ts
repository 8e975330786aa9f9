import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RecordedEvent } from '../../src/domain/events/envelope.js';
import type { EventStore } from '../../src/domain/ports/event-store.js';
import { collect, uniquePrefix } from '../support/test-events.js';

/** Helpers shared by the market-data service tests. */

export const FIXTURES = new URL('../fixtures/', import.meta.url).pathname;
export const fixture = (name: string) => join(FIXTURES, name);

/** 180 real 1m candles, 2021-01-01 00:00–02:59 (Binance kline CSV, ms). */
export const KLINES_2021 = fixture('market/binance-klines/BTCUSDT-1m-2021-01-01.csv');
/** 120 real 1m candles, 2025-03-01 00:00–01:59 (Binance kline CSV, µs, CRLF). */
export const KLINES_2025 = fixture('market/binance-klines/BTCUSDT-1m-2025-03-01.csv');
/** 100 real 1m candles around the 2021-02-11 outage (79 minutes missing). */
export const KLINES_OUTAGE = fixture('market/binance-klines/BTCUSDT-1m-2021-02-11.csv');
/** 87 real 1h candles around the 2018-02-08 outage (33 hours missing). */
export const FREQTRADE_OUTAGE = fixture('market/freqtrade/BTC_USDT-1h-2018-02-outage.json');
/** 1440 real 1m candles of 2021-05-19, the crash day (Binance kline CSV, ms). */
export const KLINES_MAY19 = fixture('candles/BTCUSDT-1m-2021-05-19.csv');
/** Binance's own 24 1h candles of 2021-05-19 (freqtrade JSON, from the shared BTC_USDT-1h.json). */
export const FREQTRADE_MAY19 = fixture('market/freqtrade/BTC_USDT-1h-2021-05-19.json');
/** 48 real 1h candles of 2021-01-01/02 as timestamp,open,high,low,close,volume. */
export const OHLCV_1H = fixture('market/ohlcv/BTCUSDT_1h.csv');

/** An exchange id no other test uses: market streams (and ids) are then unique to the test. */
export const uniqueExchange = () => uniquePrefix();

export function fixtureLines(path: string): string[] {
  return readFileSync(path, 'utf8')
    .split(/\r?\n/)
    .filter((line) => line.trim() !== '');
}

export class TempDir {
  readonly path = mkdtempSync(join(tmpdir(), 'tk-market-'));

  write(name: string, content: string | Uint8Array): string {
    const path = join(this.path, name);
    writeFileSync(path, content);
    return path;
  }

  remove(): void {
    rmSync(this.path, { recursive: true, force: true });
  }
}

export const readMarket = (store: EventStore, stream: string): Promise<RecordedEvent[]> =>
  collect(store.readStream(stream));

/** Open times of a stream's candles, and [from, to, missing] of its gaps, in stream order. */
export function describeStream(events: readonly RecordedEvent[]) {
  return events.map((event) => {
    const data = event.data as Record<string, number>;
    return event.type === 'CandleClosed'
      ? (['candle', data.openTime] as const)
      : (['gap', data.from, data.to, data.missing] as const);
  });
}

/** The stream's order key (occurredAt) must strictly increase. */
export function isTimeOrdered(events: readonly RecordedEvent[]): boolean {
  return events.every((e, i) => i === 0 || e.metadata.occurredAt > events[i - 1]!.metadata.occurredAt);
}
