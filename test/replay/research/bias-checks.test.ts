import { describe, expect, it } from 'vitest';
import {
  builtInStrategy,
  type Signal,
  type StrategyDefinition,
} from '../../../src/domain/strategies/index.js';
import { lowerBound, type SymbolColumns } from '../../../src/replay/backtest/candle-series.js';
import { checkLookahead, type StrategyFactory } from '../../../src/replay/research/lookahead.js';
import { checkWarmup, type IndicatorProbe } from '../../../src/replay/research/warmup.js';
import { fixtureSeries } from './support.js';

const series = fixtureSeries(['BTC', 'ETH'], { limit: 1500 });

/**
 * TEST ONLY, deliberately biased: goes long when the NEXT candle closes 1% higher, exits when it
 * closes 1% lower. It reads the next candle from the history it was built with: exactly the
 * look-ahead a vectorised `shift(-1)` gives.
 */
const peeking: StrategyFactory = (history: SymbolColumns): StrategyDefinition => ({
  name: 'peek-next',
  version: '1',
  params: {},
  create: () => ({
    update(candle) {
      const i = lowerBound(history.openTime, candle.openTime);
      const next = history.close[i + 1];
      if (next === undefined) return null;
      const signal = (direction: 'long' | 'exit'): Signal => ({
        direction,
        confidence: 1,
        indicators: { next },
      });
      if (next > candle.close * 1.01) return signal('long');
      if (next < candle.close * 0.99) return signal('exit');
      return null;
    },
    snapshot: () => ({}),
  }),
  restore: () => {
    throw new Error('not restorable');
  },
});

/** TEST ONLY: normalises the close by the highest close of the whole history it was given. */
const normalisedByFutureMax: StrategyFactory = (history) => {
  const max = Math.max(...history.close);
  return {
    name: 'future-max',
    version: '1',
    params: {},
    create: () => {
      let above = false;
      return {
        update(c) {
          const was = above;
          above = c.close / max > 0.9;
          return above && !was
            ? { direction: 'long', confidence: 1, indicators: { ratio: c.close / max } }
            : null;
        },
        snapshot: () => ({}),
      };
    },
    restore: () => {
      throw new Error('not restorable');
    },
  };
};

/**
 * TEST ONLY: a signal on the mean close since the strategy STARTED — it never forgets its start,
 * so no warm-up makes it agree with a run from the first candle.
 */
const sinceStart: StrategyFactory = () => ({
  name: 'since-start',
  version: '1',
  params: {},
  create: () => {
    let n = 0;
    let mean = 0;
    let above = false;
    return {
      update(c) {
        n++;
        mean += (c.close - mean) / n;
        const was = above;
        above = c.close > mean;
        if (above === was) return null;
        return { direction: above ? 'long' : 'exit', confidence: 1, indicators: { mean } };
      },
      snapshot: () => ({}),
    };
  },
  restore: () => {
    throw new Error('not restorable');
  },
});

const sinceStartProbe = (): IndicatorProbe => {
  let n = 0;
  let mean = 0;
  const out = [0];
  return {
    names: ['mean'],
    lookback: 0,
    update(bar) {
      n++;
      mean += (bar.close - mean) / n;
      out[0] = mean;
      return out;
    },
  };
};

describe('check lookahead', () => {
  it('passes the built-in strategies', () => {
    for (const [name, params] of [
      ['ema-cross', { fast: 12, slow: 26 }],
      ['rsi-reversion', { period: 14, lower: 30, upper: 70 }],
    ] as const) {
      const r = checkLookahead(series, () => builtInStrategy(name, params), { samples: 15 });
      expect(r.biased).toBe(false);
      expect(r.findings).toEqual([]);
      expect(r.symbols.map((s) => s.symbol)).toEqual(['BTC/USDT', 'ETH/USDT']);
      for (const s of r.symbols) {
        expect(s.signals).toBeGreaterThan(0);
        expect(s.cuts).toBe(30);
      }
    }
  });

  it('flags a strategy that peeks at the next candle, at the cut candle', () => {
    const r = checkLookahead(series, peeking, { samples: 10 });
    expect(r.biased).toBe(true);
    expect(r.strategy).toBe('peek-next');
    // every signal cut differs at the cut itself: the full run saw the next candle there
    const atCut = r.findings.filter((f) => f.at.index === f.cut.index);
    expect(atCut.length).toBeGreaterThanOrEqual(20);
    const f = atCut[0]!;
    expect(f.full).not.toBeNull();
    expect(f.truncated).toBeNull();
  });

  it('flags a normalisation over the whole history', () => {
    const r = checkLookahead(series, normalisedByFutureMax, { samples: 10 });
    expect(r.biased).toBe(true);
  });

  it('is deterministic for a seed', () => {
    const a = checkLookahead(series, peeking, { samples: 5, seed: 9 });
    expect(checkLookahead(series, peeking, { samples: 5, seed: 9 })).toEqual(a);
  });
});

describe('check warmup', () => {
  it('finds the startup candles the built-ins need, and they are stable from there on', () => {
    const r = checkWarmup(series, () => builtInStrategy('ema-cross', { fast: 12, slow: 26 }), { samples: 5 });
    expect(r.lookback).toBe(25);
    expect(r.rows.map((x) => x.warmup)).toEqual([26, 52, 78, 130, 260, 520]);
    expect(r.startupCandles).not.toBeNull();
    // an EMA seeded 26 candles back is far off; by 20 × 26 candles it agrees to 1e-4
    expect(r.rows[0]!.stable).toBe(false);
    expect(r.rows.at(-1)!.stable).toBe(true);
    expect(r.rows.at(-1)!.maxDifference.emaSlow).toBeLessThan(1e-4);
    // larger warm-ups never agree worse
    const slow = r.rows.map((x) => x.maxDifference.emaSlow!);
    for (let i = 1; i < slow.length; i++) expect(slow[i]!).toBeLessThanOrEqual(slow[i - 1]!);
    const rsi = checkWarmup(series, () => builtInStrategy('rsi-reversion', { period: 14 }), { samples: 5 });
    expect(rsi.startupCandles).not.toBeNull();
    expect(rsi.rows.at(-1)!.signalMismatches).toBe(0);
  });

  it('a tighter tolerance needs more startup candles', () => {
    const f = () => builtInStrategy('ema-cross', { fast: 12, slow: 26 });
    const loose = checkWarmup(series, f, { samples: 4, tolerance: 1e-3, warmups: [50, 100, 200, 400, 800] });
    const tight = checkWarmup(series, f, { samples: 4, tolerance: 1e-9, warmups: [50, 100, 200, 400, 800] });
    expect(loose.startupCandles!).toBeLessThan(tight.startupCandles!);
  });

  it('flags a strategy whose values depend on where the data starts', () => {
    const r = checkWarmup(series, sinceStart, {
      samples: 4,
      warmups: [50, 100, 400, 800],
      probe: sinceStartProbe,
    });
    expect(r.startupCandles).toBeNull();
    expect(r.rows.every((x) => !x.stable)).toBe(true);
    expect(r.examples.length).toBeGreaterThan(0);
  });

  it('refuses warm-ups longer than the data', () => {
    const short = fixtureSeries(['BTC'], { limit: 100 });
    expect(() => checkWarmup(short, () => builtInStrategy('ema-cross'), { warmups: [200, 400] })).toThrow(
      /too few/,
    );
    const partly = checkWarmup(short, () => builtInStrategy('ema-cross'), { warmups: [30, 200] });
    expect(partly.skipped).toEqual([200]);
  });
});
