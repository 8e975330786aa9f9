/**
 * The built-in strategies on real candles: signals happen exactly where the crosses are, with
 * the indicator series computed independently by TA-Lib (native) and the cross rule written
 * out again here.
 */
import { describe, expect, it } from 'vitest';
import { type Bars, hourly } from '../indicators/testing/fixtures.js';
import { talibReal } from '../indicators/testing/talib-oracle.js';
import { emaCross } from './ema-cross.js';
import { builtInStrategy, StrategyConfigError } from './index.js';
import { rsiReversion } from './rsi-reversion.js';
import type { CandleBar, StrategyDefinition } from './strategy.js';

function candles(bars: Bars): CandleBar[] {
  return bars.close.map((close, i) => ({
    openTime: bars.openTime[i]!,
    open: bars.open[i]!,
    high: bars.high[i]!,
    low: bars.low[i]!,
    close,
    volume: 0,
  }));
}

/** [index, direction] of every signal, optionally resuming from a JSON snapshot at `resumeAt`. */
function signals(definition: StrategyDefinition, bars: CandleBar[], resumeAt = -1): [number, string][] {
  let instance = definition.create('BTC/USDT');
  const out: [number, string][] = [];
  bars.forEach((bar, i) => {
    if (i === resumeAt)
      instance = definition.restore(JSON.parse(JSON.stringify(instance.snapshot())), 'BTC/USDT');
    const signal = instance.update(bar);
    if (signal) out.push([i, signal.direction]);
  });
  return out;
}

for (const symbol of ['BTC', 'ETH'] as const) {
  describe(`${symbol}/USDT 1h, first 3 000 candles`, () => {
    const bars = hourly(symbol);
    const series = candles(bars);

    it('ema-cross 12/26 signals exactly at the crosses of TA-Lib EMAs', () => {
      const fast = talibReal('EMA', { inReal: bars.close }, { optInTimePeriod: 12 });
      const slow = talibReal('EMA', { inReal: bars.close }, { optInTimePeriod: 26 });
      const expected: [number, string][] = [];
      for (let i = 1; i < bars.close.length; i++) {
        const now = fast[i]! - slow[i]!;
        const before = fast[i - 1]! - slow[i - 1]!;
        if (Number.isNaN(before)) continue;
        if (now > 0 && before <= 0) expected.push([i, 'long']);
        if (now < 0 && before >= 0) expected.push([i, 'exit']);
      }
      const actual = signals(emaCross(), series);
      expect(expected.length).toBeGreaterThan(50);
      expect(actual).toEqual(expected);
      expect(actual[0]![0]).toBeGreaterThanOrEqual(26);
    });

    it('rsi-reversion 14 signals when TA-Lib RSI enters below 30 or above 70', () => {
      const rsi = talibReal('RSI', { inReal: bars.close }, { optInTimePeriod: 14 });
      const expected: [number, string][] = [];
      let below = false;
      let above = false;
      rsi.forEach((value, i) => {
        if (Number.isNaN(value)) return;
        if (value < 30 && !below) expected.push([i, 'long']);
        else if (value > 70 && !above) expected.push([i, 'exit']);
        below = value < 30;
        above = value > 70;
      });
      const actual = signals(rsiReversion(), series);
      expect(expected.length).toBeGreaterThan(50);
      expect(actual).toEqual(expected);
    });

    it('a strategy resumed from a snapshot signals as if never stopped', () => {
      for (const definition of [emaCross(), rsiReversion()]) {
        const uninterrupted = signals(definition, series);
        for (const at of [5, 20, 27, 1_500]) expect(signals(definition, series, at)).toEqual(uninterrupted);
      }
    });
  });
}

describe('signals carry what the rule compared', () => {
  it('ema-cross: both EMAs and the spreads', () => {
    const instance = emaCross({ fast: 2, slow: 3 }).create('BTC/USDT');
    const closes = [10, 10, 10, 9, 8, 12];
    const out = closes.map((close, i) =>
      instance.update({ openTime: i, open: close, high: close, low: close, close, volume: 1 }),
    );
    const signal = out.find((s) => s !== null)!;
    expect(signal.direction).toBe('exit');
    expect(Object.keys(signal.indicators).sort()).toEqual([
      'close',
      'emaFast',
      'emaSlow',
      'previousSpread',
      'spread',
    ]);
    expect(signal.confidence).toBe(1);
    expect(out.at(-1)!.direction).toBe('long');
  });
});

describe('configuration', () => {
  it('built-ins by name, with parameters checked', () => {
    expect(builtInStrategy('ema-cross', { fast: 5, slow: 20 }).params).toEqual({ fast: 5, slow: 20 });
    expect(builtInStrategy('rsi-reversion').params).toEqual({ period: 14, lower: 30, upper: 70 });
    expect(() => builtInStrategy('macd-magic')).toThrow(StrategyConfigError);
    expect(() => builtInStrategy('ema-cross', { fsat: 5 })).toThrow(/unknown parameter fsat/);
    expect(() => emaCross({ fast: 30, slow: 26 })).toThrow(StrategyConfigError);
    expect(() => rsiReversion({ lower: 80, upper: 70 })).toThrow(StrategyConfigError);
  });
  it('refuses a snapshot of another strategy or period', () => {
    const snapshot = JSON.parse(JSON.stringify(emaCross().create('BTC/USDT').snapshot()));
    expect(() => rsiReversion().restore(snapshot, 'BTC/USDT')).toThrow(/snapshot/);
    expect(() => emaCross({ fast: 10, slow: 26 }).restore(snapshot, 'BTC/USDT')).toThrow(/periods/);
  });
});
