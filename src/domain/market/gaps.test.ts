import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { countMissing, findGaps } from './gaps.js';

const HOUR = 3_600_000;
const at = (iso: string) => Date.parse(iso);

/** Real BTC/USDT 1h candles, 2018-02-06 to 2018-02-10, across Binance's 2018-02-08 outage. */
const OUTAGE = (
  JSON.parse(
    readFileSync(
      new URL('../../../test/fixtures/market/freqtrade/BTC_USDT-1h-2018-02-outage.json', import.meta.url),
      'utf8',
    ),
  ) as number[][]
).map(([openTime]) => ({ openTime: openTime! }));

describe('findGaps', () => {
  it('finds the 33 missing hours of the real 2018-02-08 outage', () => {
    expect(findGaps(OUTAGE, '1h')).toEqual([
      { from: at('2018-02-08T01:00:00Z'), to: at('2018-02-09T09:00:00Z'), missing: 33 },
    ]);
  });

  it('reports a gap between stored data and the series when given the last stored open time', () => {
    const afterOutage = OUTAGE.filter((c) => c.openTime >= at('2018-02-09T10:00:00Z'));
    expect(findGaps(afterOutage, '1h', { after: at('2018-02-08T00:00:00Z') })).toEqual([
      { from: at('2018-02-08T01:00:00Z'), to: at('2018-02-09T09:00:00Z'), missing: 33 },
    ]);
    expect(findGaps(afterOutage, '1h', { after: at('2018-02-09T09:00:00Z') })).toEqual([]);
  });

  it('treats candles overlapping stored data as no gap', () => {
    const series = OUTAGE.slice(0, 10);
    expect(findGaps(series, '1h', { after: series[5]!.openTime })).toEqual([]);
    expect(findGaps(series, '1h', { after: series[9]!.openTime + 3 * HOUR })).toEqual([]);
  });

  it('returns nothing for empty and single-candle series', () => {
    expect(findGaps([], '1h')).toEqual([]);
    expect(findGaps([], '1h', { after: at('2018-02-08T00:00:00Z') })).toEqual([]);
    expect(findGaps(OUTAGE.slice(0, 1), '1h')).toEqual([]);
  });

  it('refuses unordered or misaligned input rather than guessing', () => {
    expect(() => findGaps([OUTAGE[1]!, OUTAGE[0]!], '1h')).toThrow(/strictly increasing/);
    expect(() => findGaps([OUTAGE[0]!, OUTAGE[0]!], '1h')).toThrow(/strictly increasing/);
    expect(() => findGaps([{ openTime: OUTAGE[0]!.openTime + 60_000 }], '1h')).toThrow(/1h-aligned/);
  });

  it('property: candles plus missing slots cover the whole span, and gaps hold no candle', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 0, max: 500 }), { minLength: 1, maxLength: 200 }),
        (slots) => {
          const start = at('2021-01-01T00:00:00Z');
          const candles = [...slots]
            .sort((a, b) => a - b)
            .map((slot) => ({ openTime: start + slot * 60_000 }));
          const gaps = findGaps(candles, '1m');
          const span = (candles.at(-1)!.openTime - candles[0]!.openTime) / 60_000 + 1;
          expect(candles.length + countMissing(gaps)).toBe(span);
          const times = new Set(candles.map((c) => c.openTime));
          for (const gap of gaps) {
            expect(gap.missing).toBe((gap.to - gap.from) / 60_000 + 1);
            expect(times.has(gap.from - 60_000) && times.has(gap.to + 60_000)).toBe(true);
            expect(times.has(gap.from) || times.has(gap.to)).toBe(false);
          }
        },
      ),
    );
  });
});
