/**
 * Golden regression tests: pinned results of fixed backtests on the real-data fixtures (the
 * first 3,000 hours of Binance BTC/USDT and ETH/USDT), through the same code path as the CLI
 * (settings → kernelSetup → simulate). Any change to the kernel, the strategies, the risk rules,
 * the fill model or the metrics that moves a trade, an event or a metric shows up here.
 *
 * A deliberate change: regenerate the expectations, read the diff, commit it with the change:
 *   UPDATE_GOLDEN=1 npx vitest run test/replay/golden.test.ts && git diff test/fixtures/golden
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { riskNone } from '../../src/domain/risk/config.js';
import { type BacktestSpec, defaultSettings, kernelSetup } from '../../src/replay/backtest/settings.js';
import { simulate } from '../../src/replay/backtest/simulate.js';
import { FIXTURE_FROM, FIXTURE_TO, fixtureSeries } from './support.js';

const GOLDEN = new URL('../fixtures/golden/backtest-fixtures.json', import.meta.url).pathname;
const UPDATE = process.env.UPDATE_GOLDEN === '1';

interface Golden {
  dataPoints: number;
  decisions: number;
  eventTypes: Record<string, number>;
  decisionHash: string;
  trades: number;
  exitReasons: Record<string, number>;
  firstTrade: unknown;
  metrics: Record<string, number | null>;
}

const SYMBOL_SETS = [['BTC/USDT'], ['ETH/USDT'], ['BTC/USDT', 'ETH/USDT']];
const STRATEGIES = ['ema-cross', 'rsi-reversion'];
const RISKS = ['default', 'none-0.95'] as const;

const cases = SYMBOL_SETS.flatMap((symbols) =>
  STRATEGIES.flatMap((strategy) => RISKS.map((risk) => ({ symbols, strategy, risk }))),
);

function nameOf(c: (typeof cases)[number]): string {
  return `${c.strategy} ${c.symbols.join('+')} risk=${c.risk}`;
}

async function run(c: (typeof cases)[number]): Promise<Golden> {
  const base = defaultSettings('USDT');
  const spec: BacktestSpec = {
    strategy: { name: c.strategy, params: {} },
    exchange: 'binance',
    timeframe: '1h',
    symbols: c.symbols,
    from: FIXTURE_FROM,
    to: FIXTURE_TO,
    settings: { ...base, risk: c.risk === 'default' ? base.risk : riskNone(0.95) },
  };
  const sim = simulate(await fixtureSeries(c.symbols), kernelSetup(spec, 'golden'), { collect: 'events' });
  const eventTypes: Record<string, number> = {};
  for (const e of sim.events!) eventTypes[e.type] = (eventTypes[e.type] ?? 0) + 1;
  const exitReasons: Record<string, number> = {};
  for (const t of sim.trades) exitReasons[t.exitReason] = (exitReasons[t.exitReason] ?? 0) + 1;
  const t = sim.trades[0];
  return {
    dataPoints: sim.dataPoints,
    decisions: sim.decisions,
    eventTypes: sortKeys(eventTypes),
    decisionHash: sim.decisionHash!,
    trades: sim.trades.length,
    exitReasons: sortKeys(exitReasons),
    firstTrade: t
      ? {
          symbol: t.symbol,
          entryTime: t.entryTime,
          entryPrice: t.entryPrice,
          exitTime: t.exitTime,
          exitPrice: t.exitPrice,
          exitReason: t.exitReason,
        }
      : null,
    metrics: { ...sim.metrics },
  };
}

function sortKeys<T>(o: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => a.localeCompare(b)));
}

describe('golden backtests on the 3,000-hour fixtures', () => {
  const stored = JSON.parse(readFileSync(GOLDEN, 'utf8')) as { cases: Record<string, Golden> };

  if (UPDATE) {
    it('rewrites test/fixtures/golden/backtest-fixtures.json', async () => {
      const out: Record<string, Golden> = {};
      for (const c of cases) out[nameOf(c)] = await run(c);
      const file = {
        about:
          'Pinned backtest results on test/fixtures/candles/*-1h-first3000.json (test/replay/golden.test.ts). Regenerate deliberately: UPDATE_GOLDEN=1 npx vitest run test/replay/golden.test.ts',
        cases: out,
      };
      writeFileSync(GOLDEN, `${JSON.stringify(file, null, 2)}\n`);
    });
    return;
  }

  it('has an expectation for every case', () => {
    expect(Object.keys(stored.cases).sort()).toEqual(cases.map(nameOf).sort());
  });

  for (const c of cases) {
    it(nameOf(c), async () => {
      const expected = stored.cases[nameOf(c)]!;
      const actual = await run(c);
      // counts first: they say what changed when the hash does
      expect(actual.dataPoints).toBe(expected.dataPoints);
      expect(actual.trades).toBe(expected.trades);
      expect(actual.exitReasons).toEqual(expected.exitReasons);
      expect(actual.eventTypes).toEqual(expected.eventTypes);
      expect(actual.firstTrade).toEqual(expected.firstTrade);
      for (const [k, v] of Object.entries(expected.metrics)) {
        if (v === null) expect(actual.metrics[k], k).toBeNull();
        else expect(actual.metrics[k], k).toBeCloseTo(v, 9);
      }
      expect(actual.decisionHash).toBe(expected.decisionHash);
    });
  }
});
