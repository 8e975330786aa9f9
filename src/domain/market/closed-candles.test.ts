import { describe, expect, it } from 'vitest';
import { dropUnclosedCandles, splitUnclosedCandles } from './closed-candles.js';

const at = (iso: string) => Date.parse(iso);
const hours = ['2021-01-01T00:00:00Z', '2021-01-01T01:00:00Z', '2021-01-01T02:00:00Z'].map((iso) => ({
  openTime: at(iso),
}));

describe('splitUnclosedCandles', () => {
  it('splits off the candle still forming at `now`', () => {
    const { closed, unclosed } = splitUnclosedCandles(hours, '1h', at('2021-01-01T02:59:59.999Z'));
    expect(closed).toEqual(hours.slice(0, 2));
    expect(unclosed).toEqual(hours.slice(2));
  });

  it('counts a candle as closed exactly at its close time (the close time is exclusive)', () => {
    expect(dropUnclosedCandles(hours, '1h', at('2021-01-01T03:00:00Z'))).toEqual(hours);
  });

  it('drops every candle not yet closed, not only the last', () => {
    expect(dropUnclosedCandles(hours, '1h', at('2021-01-01T01:30:00Z'))).toEqual(hours.slice(0, 1));
    expect(dropUnclosedCandles(hours, '1h', at('2020-12-31T00:00:00Z'))).toEqual([]);
  });

  it('uses the timeframe length: the same open times as 1d candles are all open', () => {
    expect(splitUnclosedCandles(hours, '1d', at('2021-01-01T12:00:00Z')).unclosed).toHaveLength(3);
  });
});
