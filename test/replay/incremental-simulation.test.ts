import { describe, expect, it } from 'vitest';
import { defaultKernelConfig } from '../../src/domain/kernel/config.js';
import { builtInStrategy } from '../../src/domain/strategies/index.js';
import { allocateCandleSeries, CANDLE_FIELDS } from '../../src/replay/backtest/candle-series.js';
import { IncrementalSimulation, type SimulationSetup, simulate } from '../../src/replay/backtest/simulate.js';
import { fixtureSeries } from './support.js';

/**
 * A backtest reading from the store replays each page of candles as it arrives
 * (IncrementalSimulation); fed all at once or in any pieces, in any order across symbols, the
 * kernel must see the same candles in the same order and give the same result, bit for bit.
 */
describe('IncrementalSimulation', () => {
  const symbols = ['BTC/USDT', 'ETH/USDT'];
  const setup = (): SimulationSetup => ({
    config: defaultKernelConfig({ initialCash: 1_000 }),
    context: {
      accountId: 'bt-inc',
      mode: 'backtest',
      runId: 'inc',
      exchange: 'binance',
      timeframe: '1h',
      symbols,
      strategies: [builtInStrategy('ema-cross')],
    },
  });

  /** A deterministic pseudo-random sequence (mulberry32). */
  function random(seed: number): () => number {
    let a = seed;
    return () => {
      a = (a + 0x6d2b79f5) | 0;
      let t = Math.imul(a ^ (a >>> 15), 1 | a);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }

  it.each([1, 2, 3])('gives what simulate gives, fed in random pieces (seed %i)', async (seed) => {
    const full = await fixtureSeries(symbols);
    // ETH starts 500 candles later: a symbol listed later than the other
    const source = {
      ...full,
      columns: full.columns.map((c, s) =>
        s === 1 ? Object.fromEntries(CANDLE_FIELDS.map((f) => [f, c[f].subarray(500)])) : c,
      ) as typeof full.columns,
    };
    const expected = simulate(source, setup(), { collect: 'events' });

    const lengths = source.columns.map((c) => c.openTime.length);
    const target = allocateCandleSeries('binance', '1h', symbols, lengths);
    const simulation = new IncrementalSimulation(target, setup(), { collect: 'events' });
    const filled = new Int32Array(2);
    const finished = [false, false];
    const next = random(seed);
    while (!finished[0] || !finished[1]) {
      const s = finished[0] ? 1 : finished[1] ? 0 : next() < 0.5 ? 0 : 1;
      const n = Math.min(lengths[s]! - filled[s]!, 1 + Math.floor(next() * 700));
      for (const f of CANDLE_FIELDS)
        target.columns[s]![f].set(source.columns[s]![f].subarray(filled[s]!, filled[s]! + n), filled[s]!);
      filled[s] = filled[s]! + n;
      if (filled[s] === lengths[s]) finished[s] = true;
      simulation.advance(filled, finished);
    }
    const actual = simulation.finish();
    expect(actual.dataPoints).toBe(expected.dataPoints);
    expect(actual.decisionHash).toBe(expected.decisionHash);
    expect(actual.events).toEqual(expected.events);
    expect(actual.trades).toEqual(expected.trades);
    expect(actual.metrics).toEqual(expected.metrics);
    expect(Array.from(actual.equity.equity)).toEqual(Array.from(expected.equity.equity));
  });

  it('waits for a symbol that has not delivered yet, even when the other is complete', async () => {
    const full = await fixtureSeries(symbols);
    const expected = simulate(full, setup(), { collect: 'hash' });
    const simulation = new IncrementalSimulation(full, setup(), { collect: 'hash' });
    const n = full.columns[0]!.openTime.length;
    simulation.advance([n, 0], [true, false]); // ETH has nothing yet: nothing may be replayed
    simulation.advance([n, full.columns[1]!.openTime.length], [true, true]);
    const actual = simulation.finish();
    expect(actual.decisionHash).toBe(expected.decisionHash);
    expect(actual.dataPoints).toBe(6_000);
  });
});
