import { describe, expect, it } from 'vitest';
import type { NewEvent } from '../../src/domain/events/envelope.js';
import { defaultKernelConfig } from '../../src/domain/kernel/config.js';
import { candleEventId, candleStreamEvents } from '../../src/domain/market/candle-events.js';
import { riskNone } from '../../src/domain/risk/config.js';
import { builtInStrategy } from '../../src/domain/strategies/index.js';
import {
  candleSeriesFromEvents,
  decisionHashOf,
  type SimulationSetup,
  simulate,
  sliceCandleSeries,
} from '../../src/replay/backtest/simulate.js';
import { fixtureCandles, fixtureSeries } from './support.js';

function setup(symbols: string[], risk: 'default' | 'none' = 'default'): SimulationSetup {
  return {
    config: defaultKernelConfig({ initialCash: 1_000, ...(risk === 'none' ? { risk: riskNone(0.95) } : {}) }),
    context: {
      accountId: 'bt-sim',
      mode: 'backtest',
      runId: 'sim',
      exchange: 'binance',
      timeframe: '1h',
      symbols,
      strategies: [builtInStrategy('ema-cross')],
    },
  };
}

/** Candle events of the fixtures, merged by close time (ties in symbol order), as a store holds them. */
async function mergedEvents(symbols: string[], cut?: { symbol: string; from: number }): Promise<NewEvent[]> {
  const all: { e: NewEvent; s: number }[] = [];
  for (const [s, symbol] of symbols.entries()) {
    let candles = await fixtureCandles(symbol);
    if (cut?.symbol === symbol) candles = candles.filter((c) => c.openTime >= cut.from);
    for (const e of candleStreamEvents({ exchange: 'binance', symbol, timeframe: '1h' }, candles, []))
      all.push({ e, s });
  }
  all.sort((a, b) => a.e.metadata.occurredAt - b.e.metadata.occurredAt || a.s - b.s);
  return all.map((x) => x.e);
}

describe('simulate', () => {
  it('gives the same events from a CandleSeries as from the candle events, ids derived or given', async () => {
    const symbols = ['BTC/USDT', 'ETH/USDT'];
    const events = await mergedEvents(symbols);
    const fromEvents = simulate(events, setup(symbols));
    const fromSeries = simulate(await fixtureSeries(symbols), setup(symbols));
    const withIds = simulate(candleSeriesFromEvents('binance', '1h', symbols, events), setup(symbols));
    expect(fromEvents.decisions).toBeGreaterThan(500);
    expect(fromSeries.decisionHash).toBe(fromEvents.decisionHash);
    expect(withIds.decisionHash).toBe(fromEvents.decisionHash);
    expect(fromSeries.events).toEqual(fromEvents.events);
    expect(fromSeries.dataPoints).toBe(6_000);
    expect(fromSeries.trades).toEqual(fromEvents.trades);
    expect(fromSeries.metrics).toEqual(fromEvents.metrics);
    // the causation of a decision is the candle's real event id
    const signal = fromSeries.events!.find((e) => e.type === 'SignalEmitted')!;
    const candle = events.find((e) => e.id === signal.metadata.causationId)!;
    expect(candle.type).toBe('CandleClosed');
    expect(signal.metadata.causationId).toBe(
      candleEventId(
        { exchange: 'binance', symbol: (candle.data as { symbol: string }).symbol, timeframe: '1h' },
        (candle.data as { openTime: number }).openTime,
      ),
    );
  });

  it('collects events, only their hash, or nothing, with the same trades and metrics', async () => {
    const series = await fixtureSeries(['BTC/USDT']);
    const events = simulate(series, setup(['BTC/USDT'], 'none'), { collect: 'events' });
    const hash = simulate(series, setup(['BTC/USDT'], 'none'), { collect: 'hash' });
    const none = simulate(series, setup(['BTC/USDT'], 'none'), { collect: 'none' });
    expect(hash.events).toBeUndefined();
    expect(none.decisionHash).toBeUndefined();
    expect(hash.decisionHash).toBe(events.decisionHash);
    expect(decisionHashOf(events.events!)).toBe(events.decisionHash);
    for (const r of [hash, none]) {
      expect(r.decisions).toBe(events.decisions);
      expect(r.trades).toEqual(events.trades);
      expect(r.metrics).toEqual(events.metrics);
      expect(Array.from(r.equity.equity)).toEqual(Array.from(events.equity.equity));
    }
  });

  it('runs the same twice (determinism), on a shared series too', async () => {
    const a = simulate(await fixtureSeries(['BTC/USDT', 'ETH/USDT']), setup(['BTC/USDT', 'ETH/USDT']));
    const shared = await fixtureSeries(['BTC/USDT', 'ETH/USDT'], { shared: true });
    expect(shared.columns[0]!.close.buffer).toBeInstanceOf(SharedArrayBuffer);
    const b = simulate(shared, setup(['BTC/USDT', 'ETH/USDT']));
    expect(b.decisionHash).toBe(a.decisionHash);
    expect(b.metrics).toEqual(a.metrics);
  });

  it('selects [from, to) without copying, like a slice of the series', async () => {
    const series = await fixtureSeries(['BTC/USDT', 'ETH/USDT']);
    const from = Date.parse('2017-10-01T00:00:00Z');
    const to = Date.parse('2017-11-15T00:00:00Z');
    const ranged = simulate(series, setup(['BTC/USDT', 'ETH/USDT']), { from, to });
    const sliced = simulate(sliceCandleSeries(series, from, to), setup(['BTC/USDT', 'ETH/USDT']));
    expect(ranged.dataPoints).toBe(2 * 45 * 24);
    expect(ranged.decisionHash).toBe(sliced.decisionHash);
    expect(ranged.equity.time[0]).toBe(from + 3_600_000);
  });

  it('lets a symbol listed later join later', async () => {
    const symbols = ['BTC/USDT', 'ETH/USDT'];
    const late = Date.parse('2017-10-01T00:00:00Z');
    const events = await mergedEvents(symbols, { symbol: 'ETH/USDT', from: late });
    const series = candleSeriesFromEvents('binance', '1h', symbols, events);
    expect(series.columns[1]!.openTime[0]).toBe(late);
    const fromSeries = simulate(series, setup(symbols));
    const fromEvents = simulate(events, setup(symbols));
    expect(fromSeries.decisionHash).toBe(fromEvents.decisionHash);
    expect(fromSeries.trades.filter((t) => t.symbol === 'ETH/USDT').every((t) => t.entryTime >= late)).toBe(
      true,
    );
  });

  it('reports progress', async () => {
    const seen: [number, number][] = [];
    simulate(await fixtureSeries(['BTC/USDT']), setup(['BTC/USDT']), {
      collect: 'none',
      progressEvery: 1_000,
      onProgress: (done, total) => seen.push([done, total]),
    });
    expect(seen).toEqual([
      [1000, 3000],
      [2000, 3000],
      [3000, 3000],
      [3000, 3000],
    ]);
  });
});
