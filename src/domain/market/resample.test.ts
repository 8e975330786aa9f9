import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Candle } from './candle.js';
import { createResampler, type ResampledCandle, resampleCandles, resampleRatio } from './resample.js';
import { alignTime, isAligned, type Timeframe } from './timeframe.js';
import { validateCandles } from './validate.js';

const MINUTE = 60_000;
const START = Date.UTC(2021, 0, 1);

/**
 * A 1m series over up to 12 hours from a random minute, with candles missing at random. The
 * density varies per series so that some have every minute (complete buckets) and some have
 * long holes. Prices are whole cents and volumes whole units, so sums are exact and staged and
 * direct resampling can be compared with toEqual.
 */
const minuteSeries = (volume: fc.Arbitrary<number> = fc.integer({ min: 0, max: 1_000_000 })) =>
  fc
    .record({
      firstMinute: fc.integer({ min: 0, max: 1439 }),
      density: fc.constantFrom(1, 1, 0.98, 0.8, 0.3),
      slots: fc.array(
        fc.record({
          draw: fc.double({ min: 0, max: 1, noNaN: true }),
          open: fc.integer({ min: 100, max: 10_000_000 }),
          close: fc.integer({ min: 100, max: 10_000_000 }),
          up: fc.integer({ min: 0, max: 10_000 }),
          down: fc.integer({ min: 0, max: 10_000 }),
          volume,
        }),
        { maxLength: 720, size: 'max' },
      ),
    })
    .map(({ firstMinute, density, slots }) =>
      slots.flatMap((slot, index): Candle[] =>
        slot.draw < density
          ? [
              {
                openTime: START + (firstMinute + index) * MINUTE,
                open: slot.open / 100,
                high: (Math.max(slot.open, slot.close) + slot.up) / 100,
                low: Math.max(1, Math.min(slot.open, slot.close) - slot.down) / 100,
                close: slot.close / 100,
                volume: slot.volume,
              },
            ]
          : [],
      ),
    );

const TARGETS: Timeframe[] = ['5m', '15m', '1h', '4h', '1d'];

/** The obvious reference: group by bucket, then take first/max/min/last/sum. */
function referenceResample(candles: readonly Candle[], target: Timeframe, ratio: number): ResampledCandle[] {
  const buckets = new Map<number, Candle[]>();
  for (const candle of candles) {
    const key = alignTime(candle.openTime, target);
    buckets.set(key, [...(buckets.get(key) ?? []), candle]);
  }
  return [...buckets].map(([openTime, group]) => ({
    openTime,
    open: group[0]!.open,
    high: Math.max(...group.map((c) => c.high)),
    low: Math.min(...group.map((c) => c.low)),
    close: group.at(-1)!.close,
    volume: group.reduce((sum, c) => sum + c.volume, 0),
    complete: group.length === ratio,
    count: group.length,
  }));
}

const strip = ({ count: _count, ...rest }: ResampledCandle) => rest;

describe('resampleRatio', () => {
  it('is the number of source candles per target candle', () => {
    expect(resampleRatio('1m', '1h')).toBe(60);
    expect(resampleRatio('1m', '1d')).toBe(1440);
    expect(resampleRatio('1h', '4h')).toBe(4);
    expect(resampleRatio('1d', '1w')).toBe(7);
    expect(resampleRatio('1h', '1h')).toBe(1);
  });

  it.each([
    ['3m', '5m'],
    ['1h', '5m'],
    ['8h', '12h'],
  ] as [Timeframe, Timeframe][])('refuses %s → %s, not a multiple', (source, target) => {
    expect(() => resampleRatio(source, target)).toThrow(
      `cannot resample ${source} candles to ${target}: ${target} is not a multiple of ${source}`,
    );
  });
});

describe('resampleCandles', () => {
  // Real BTC/USDT 1m candles of 2021-01-01 00:00–00:04 and the 5m candle Binance reports for them.
  const real1m: Candle[] = [
    {
      openTime: 1609459200000,
      open: 28923.63,
      high: 28961.66,
      low: 28913.12,
      close: 28961.66,
      volume: 27.457032,
    },
    {
      openTime: 1609459260000,
      open: 28961.67,
      high: 29017.5,
      low: 28961.01,
      close: 29009.91,
      volume: 58.477501,
    },
    {
      openTime: 1609459320000,
      open: 29009.54,
      high: 29016.71,
      low: 28973.58,
      close: 28989.3,
      volume: 42.470329,
    },
    {
      openTime: 1609459380000,
      open: 28989.68,
      high: 28999.85,
      low: 28972.33,
      close: 28982.69,
      volume: 30.360677,
    },
    {
      openTime: 1609459440000,
      open: 28982.67,
      high: 28995.93,
      low: 28971.8,
      close: 28975.65,
      volume: 24.124339,
    },
  ];

  it('aggregates real minutes: first open, max high, min low, last close, summed volume', () => {
    const [bucket, ...rest] = resampleCandles(real1m, '1m', '5m');
    expect(rest).toEqual([]);
    expect(bucket).toMatchObject({
      openTime: 1609459200000,
      open: 28923.63,
      high: 29017.5,
      low: 28913.12,
      close: 28975.65,
      complete: true,
      count: 5,
    });
    expect(bucket!.volume).toBeCloseTo(182.889878, 9);
  });

  it('keeps a bucket with missing minutes, marked incomplete, and never pads it', () => {
    const withHole = [real1m[0]!, real1m[1]!, real1m[4]!];
    expect(resampleCandles(withHole, '1m', '5m')).toEqual([
      expect.objectContaining({
        open: 28923.63,
        high: 29017.5,
        low: 28913.12,
        close: 28975.65,
        complete: false,
        count: 3,
      }),
    ]);
  });

  it('emits no bucket at all where there is no source candle', () => {
    const apart = [real1m[0]!, { ...real1m[1]!, openTime: real1m[0]!.openTime + 15 * MINUTE }];
    expect(resampleCandles(apart, '1m', '5m').map((c) => c.openTime)).toEqual([
      real1m[0]!.openTime,
      real1m[0]!.openTime + 15 * MINUTE,
    ]);
  });

  it('refuses unordered or misaligned input', () => {
    expect(() => resampleCandles([real1m[1]!, real1m[0]!], '1m', '5m')).toThrow(/strictly increase/);
    expect(() => resampleCandles([{ ...real1m[0]!, openTime: 1609459230000 }], '1m', '5m')).toThrow(
      /not aligned/,
    );
  });

  it('property: equals the group-by reference for every target', () => {
    fc.assert(
      fc.property(minuteSeries(), fc.constantFrom(...TARGETS), (candles, target) => {
        expect(resampleCandles(candles, '1m', target)).toEqual(
          referenceResample(candles, target, resampleRatio('1m', target)),
        );
      }),
      { numRuns: 150 },
    );
  });

  it('property: resampling 1m → 5m → 1h equals 1m → 1h (prices, volume, completeness)', () => {
    fc.assert(
      fc.property(minuteSeries(), (candles) => {
        const staged = resampleCandles(resampleCandles(candles, '1m', '5m'), '5m', '1h');
        const direct = resampleCandles(candles, '1m', '1h');
        expect(staged.map(strip)).toEqual(direct.map(strip));
      }),
      { numRuns: 150 },
    );
  });

  it('property: volume is preserved and counts add up, with fractional volumes', () => {
    const fractional = fc.double({ min: 0, max: 1000, noNaN: true }).map((v) => Math.round(v * 1e8) / 1e8);
    fc.assert(
      fc.property(minuteSeries(fractional), fc.constantFrom(...TARGETS), (candles, target) => {
        const buckets = resampleCandles(candles, '1m', target);
        const total = (list: readonly Candle[]) => list.reduce((sum, c) => sum + c.volume, 0);
        expect(Math.abs(total(buckets) - total(candles))).toBeLessThanOrEqual(
          1e-9 * Math.max(1, total(candles)),
        );
        expect(buckets.reduce((sum, b) => sum + b.count, 0)).toBe(candles.length);
      }),
      { numRuns: 100 },
    );
  });

  it('property: 8-decimal volumes sum exactly, at once or in stages', () => {
    // Volumes as exchanges publish them: whole units of 10^-8.
    const units = fc.integer({ min: 0, max: 100_000 * 1e8 });
    fc.assert(
      fc.property(minuteSeries(units.map((u) => u / 1e8)), fc.constantFrom(...TARGETS), (candles, target) => {
        const direct = resampleCandles(candles, '1m', target);
        for (const bucket of direct) {
          const inBucket = candles.filter((c) => alignTime(c.openTime, target) === bucket.openTime);
          const exactUnits = inBucket.reduce((sum, c) => sum + Math.round(c.volume * 1e8), 0);
          expect(bucket.volume).toBe(exactUnits / 1e8);
        }
        if (target === '1h') {
          const staged = resampleCandles(resampleCandles(candles, '1m', '15m'), '15m', '1h');
          expect(staged.map((b) => b.volume)).toEqual(direct.map((b) => b.volume));
        }
      }),
      { numRuns: 100 },
    );
  });

  it('property: complete exactly when count = ratio; aligned, increasing, valid output', () => {
    fc.assert(
      fc.property(minuteSeries(), fc.constantFrom(...TARGETS), (candles, target) => {
        const ratio = resampleRatio('1m', target);
        const buckets = resampleCandles(candles, '1m', target);
        for (const [index, bucket] of buckets.entries()) {
          expect(bucket.complete).toBe(bucket.count === ratio);
          expect(bucket.count).toBeGreaterThanOrEqual(1);
          expect(isAligned(bucket.openTime, target)).toBe(true);
          if (index > 0) expect(bucket.openTime).toBeGreaterThan(buckets[index - 1]!.openTime);
        }
        const rows = buckets.map((bucket, index) => ({ ...bucket, line: index + 1, row: index + 1 }));
        expect(validateCandles(rows, target)).toEqual([]);
      }),
      { numRuns: 150 },
    );
  });
});

describe('createResampler (incremental)', () => {
  it('property: pushing one by one then flushing gives the batch result', () => {
    fc.assert(
      fc.property(minuteSeries(), fc.constantFrom(...TARGETS), (candles, target) => {
        const resampler = createResampler('1m', target);
        const streamed = candles.flatMap((candle) => resampler.push(candle));
        const last = resampler.flush();
        if (last) streamed.push(last);
        expect(streamed).toEqual(resampleCandles(candles, '1m', target));
      }),
      { numRuns: 100 },
    );
  });

  it('emits a bucket as soon as its last source candle arrives', () => {
    const resampler = createResampler('1m', '5m');
    const minute = (n: number): Candle => ({
      openTime: START + n * MINUTE,
      open: 10,
      high: 11,
      low: 9,
      close: 10,
      volume: 1,
    });
    for (let n = 0; n < 4; n++) expect(resampler.push(minute(n))).toEqual([]);
    expect(resampler.push(minute(4))).toEqual([
      expect.objectContaining({ openTime: START, complete: true, count: 5 }),
    ]);
    // A hole: the bucket at 00:05 is only emitted when a later bucket starts, incomplete.
    expect(resampler.push(minute(5))).toEqual([]);
    expect(resampler.push(minute(11))).toEqual([
      expect.objectContaining({ openTime: START + 5 * MINUTE, complete: false, count: 1 }),
    ]);
    expect(resampler.flush()).toEqual(
      expect.objectContaining({ openTime: START + 10 * MINUTE, complete: false }),
    );
    expect(resampler.flush()).toBeNull();
  });
});
