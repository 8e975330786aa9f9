import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CandleRow } from '../../domain/market/candle.js';
import { countMissing, findGaps } from '../../domain/market/gaps.js';
import { resampleCandles } from '../../domain/market/resample.js';
import { validateCandles } from '../../domain/market/validate.js';
import { inferMarketFromFileName } from './file-name.js';
import { readMarketFile } from './read-market-file.js';

/**
 * Checks against the real Binance data in /work/shared/data (not in the repository: it is read
 * in place, and these tests are skipped where it is absent). The fixture-based test at the end
 * always runs.
 */
const DATA = '/work/shared/data/binance-spot';
const KLINES_DIR = join(DATA, 'klines-1m/BTCUSDT');
const FREQTRADE_DIR = join(DATA, 'freqtrade-1h');
const HOUR = 3_600_000;

if (!existsSync(KLINES_DIR) || !existsSync(FREQTRADE_DIR)) {
  console.warn(`[skipped] real Binance data tests: ${DATA} is not on this machine`);
}

describe.skipIf(!existsSync(KLINES_DIR) || !existsSync(FREQTRADE_DIR))('real Binance data', () => {
  it('resamples all of 2021 BTC/USDT 1m to the 1h candles Binance publishes', async () => {
    const names = readdirSync(KLINES_DIR)
      .filter((name) => name.startsWith('BTCUSDT-1m-2021-'))
      .sort();
    expect(names).toHaveLength(365);

    const minutes: CandleRow[] = [];
    for (const name of names) {
      const file = await readMarketFile(join(KLINES_DIR, name));
      expect(file.issues, name).toEqual([]);
      expect(validateCandles(file.candles, '1m'), name).toEqual([]);
      for (const candle of file.candles) minutes.push(candle);
    }
    // Days join up too: the whole year is one valid series.
    expect(validateCandles(minutes, '1m')).toEqual([]);
    const hours = resampleCandles(minutes, '1m', '1h');

    const freqtrade = await readMarketFile(join(FREQTRADE_DIR, 'BTC_USDT-1h.json'));
    const from = Date.UTC(2021, 0, 1);
    const to = Date.UTC(2022, 0, 1);
    const published = new Map(
      freqtrade.candles.filter((c) => c.openTime >= from && c.openTime < to).map((c) => [c.openTime, c]),
    );

    const sameAsPublished = (hour: (typeof hours)[number]) => {
      const expected = published.get(hour.openTime);
      expect(expected, `1h candle at ${new Date(hour.openTime).toISOString()}`).toBeDefined();
      const { open, high, low, close, volume } = expected!;
      // Volume too, exactly: summed in units of 10^-8 it is the number Binance's 1h file holds.
      expect([hour.open, hour.high, hour.low, hour.close, hour.volume]).toEqual([
        open,
        high,
        low,
        close,
        volume,
      ]);
    };
    const complete = hours.filter((hour) => hour.complete);
    const incomplete = hours.filter((hour) => !hour.complete);
    for (const hour of complete) sameAsPublished(hour);
    // Binance builds its own 1h candle of an outage hour from the minutes it has, exactly as we
    // do: the incomplete hours match too. They are still flagged, since a consumer may not want
    // an hour that saw one minute of trading.
    for (const hour of incomplete) sameAsPublished(hour);
    const compared = complete.length;
    const missingHours = 8760 - hours.length;
    console.log(
      `2021 BTC/USDT: ${minutes.length} 1m candles → ${hours.length} hours with data; ` +
        `${compared} complete hours equal Binance's 1h candles; ${incomplete.length} incomplete, equal too ` +
        `(${incomplete.map((h) => `${new Date(h.openTime).toISOString().slice(0, 13)}h:${h.count}/60`).join(', ')}), ` +
        `${missingHours} without any minute`,
    );
    expect(compared + incomplete.length + missingHours).toBe(8760);
    expect(compared).toBeGreaterThan(8700);
    // Every hour Binance published that we found complete was compared; none was skipped silently.
    expect(hours.filter((h) => h.complete && !published.has(h.openTime))).toEqual([]);
  }, 60_000);

  it('reads every freqtrade file as a valid series, with the outages the README lists', async () => {
    for (const name of readdirSync(FREQTRADE_DIR).filter((n) => n.endsWith('.json'))) {
      const path = join(FREQTRADE_DIR, name);
      const { timeframe } = inferMarketFromFileName(path);
      expect(timeframe).toBe('1h');
      const file = await readMarketFile(path);
      expect(file.issues, name).toEqual([]);
      expect(validateCandles(file.candles, '1h'), name).toEqual([]);
      const gaps = findGaps(file.candles, '1h');
      const span = (file.candles.at(-1)!.openTime - file.candles[0]!.openTime) / HOUR + 1;
      expect(file.candles.length + countMissing(gaps)).toBe(span);
      if (name === 'BTC_USDT-1h.json') {
        expect(file.candles).toHaveLength(45_024);
        expect(gaps).toContainEqual({
          from: Date.UTC(2018, 1, 8, 1),
          to: Date.UTC(2018, 1, 9, 9),
          missing: 33,
        });
      }
    }
  });
});

describe('resampling across a real outage (fixture)', () => {
  it('matches Binance 1h candles on 2021-02-11 03:00–05:59, where 04:00 is missing', async () => {
    const file = await readMarketFile(
      new URL('../../../test/fixtures/market/binance-klines/BTCUSDT-1m-2021-02-11.csv', import.meta.url)
        .pathname,
    );
    expect(findGaps(file.candles, '1m')).toEqual([
      { from: Date.UTC(2021, 1, 11, 3, 41), to: Date.UTC(2021, 1, 11, 4, 59), missing: 79 },
    ]);
    // Binance's own 1h candles for those hours (BTC_USDT-1h.json): 03:00 is a flat, zero-volume
    // hour built from 41 minutes; there is no 04:00 candle at all.
    expect(resampleCandles(file.candles, '1m', '1h')).toEqual([
      {
        openTime: Date.UTC(2021, 1, 11, 3),
        open: 44582.07,
        high: 44582.07,
        low: 44582.07,
        close: 44582.07,
        volume: 0,
        complete: false,
        count: 41,
      },
      {
        openTime: Date.UTC(2021, 1, 11, 5),
        open: 44583.71,
        high: 44999,
        low: 44507,
        close: 44641.72,
        volume: 2359.409846,
        complete: true,
        count: 60,
      },
    ]);
  });
});
