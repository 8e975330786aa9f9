/**
 * Backtest benchmark, end to end from the store: candles read from the market streams, replayed
 * through the kernel (ema-cross 12/26, every risk rule on), metrics, decision hash, and (mode
 * `store`) the run's decision events appended to bt-<runId>: what `tradekernel backtest` does.
 *
 * Scenarios: `btc-1m`: all of 2021 BTC/USDT 1m (525,600 minutes minus outages: 524,607 candles);
 * `5x1h`: BTC, ETH, SOL, BNB, XRP 1h over 2018-2022 (freqtrade files; the pairs listed later
 * start later). Stores: a scratch PGlite directory and a scratch PostgreSQL database on
 * 127.0.0.1 (dropped at the end), both filled with `data import` first (not timed).
 *
 * Each measurement runs in a child process of its own, so its peak RSS (getrusage maxrss) is its
 * own: one cold run, then --runs more; the JSON line reports the cold run, the median of the warm
 * ones, and the phases: read (store → CandleSeries, with the kernel replaying each page as it
 * arrives), kernel (the part of the read spent in the kernel, with the decision hash and, when
 * storing, the events kept), store (the appends); cpuSeconds is this process's CPU time per run
 * (user + system; the database server's is not in it), and load the 1-minute load average
 * before and after, since the machine is shared: compare runs made at the same time.
 *
 *   node --import tsx bench/backtest.bench.ts [--store pglite|postgres]... [--scenario btc-1m|5x1h]...
 *     [--mode no-store|store]... [--runs 3] [--risk default|none]
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { PostgresEventStore } from '../src/adapters/event-store/postgres-event-store.js';
import { openPglite, openPostgres, type SqlDatabase } from '../src/adapters/sql/database.js';
import { KERNEL_VERSION } from '../src/cli/version.js';
import { createCatalogue } from '../src/domain/catalogue.js';
import { riskNone } from '../src/domain/risk/config.js';
import { type BacktestRun, runBacktest } from '../src/replay/backtest/run-backtest.js';
import { type BacktestSpec, defaultSettings } from '../src/replay/backtest/settings.js';
import { importCandles } from '../src/services/import-candles.js';
import { klineFiles, machine, median, report, SHARED_DATA, scratchDatabase } from './support.js';

const { values } = parseArgs({
  options: {
    store: { type: 'string', multiple: true },
    scenario: { type: 'string', multiple: true },
    mode: { type: 'string', multiple: true },
    runs: { type: 'string', default: '3' },
    risk: { type: 'string', default: 'default' },
    child: { type: 'string' },
  },
  strict: false,
});

type Scenario = 'btc-1m' | '5x1h';

const SCENARIOS: Record<Scenario, Omit<BacktestSpec, 'settings' | 'strategy'>> = {
  'btc-1m': {
    exchange: 'binance',
    timeframe: '1m',
    symbols: ['BTC/USDT'],
    from: Date.parse('2021-01-01T00:00:00Z'),
    to: Date.parse('2022-01-01T00:00:00Z'),
  },
  '5x1h': {
    exchange: 'binance',
    timeframe: '1h',
    symbols: ['BTC/USDT', 'ETH/USDT', 'SOL/USDT', 'BNB/USDT', 'XRP/USDT'],
    from: Date.parse('2018-01-01T00:00:00Z'),
    to: Date.parse('2022-10-11T00:00:00Z'),
  },
};

function spec(scenario: Scenario, risk: string): BacktestSpec {
  const settings = defaultSettings('USDT');
  return {
    ...SCENARIOS[scenario],
    strategy: { name: 'ema-cross', params: { fast: 12, slow: 26 } },
    settings: risk === 'none' ? { ...settings, risk: riskNone(0.95) } : settings,
  };
}

async function openStore(
  kind: string,
  location: string,
): Promise<{ store: PostgresEventStore; database: SqlDatabase }> {
  const database = kind === 'postgres' ? await openPostgres(location) : await openPglite(location);
  const store = await PostgresEventStore.open(database, createCatalogue());
  return { store, database };
}

// ─── child: one measurement ──────────────────────────────────────────────────────────────────

if (values.child) {
  const [kind, location, scenario, mode] = (values.child as string).split('|') as [
    string,
    string,
    Scenario,
    string,
  ];
  const { store, database } = await openStore(kind, location);
  const runs = Number(values.runs);
  const s = spec(scenario, values.risk as string);
  const results: BacktestRun[] = [];
  const cpu: number[] = [];
  const loadBefore = loadavg()[0]!;
  for (let i = 0; i <= runs; i++) {
    const cpuBefore = process.cpuUsage();
    const run = await runBacktest(store, s, {
      kernelVersion: KERNEL_VERSION,
      store: mode === 'store',
      // stored runs need a stream each; unstored ones share the run id, so their hashes must match
      runId: mode === 'store' ? `bench-${process.pid}-${i}` : 'bench',
    });
    const used = process.cpuUsage(cpuBefore);
    cpu.push((used.user + used.system) / 1e6);
    results.push(run);
    // keep the numbers, not the candles and events of the runs before
    (run as { sim: unknown; series: unknown }).sim = { decisions: run.sim.decisions };
    (run as { series: unknown }).series = null;
    global.gc?.();
  }
  const cold = results[0]!;
  const warm = results.slice(1);
  const candles = cold.result.dataPoints;
  const perSecond = (ms: number) => Math.round((candles / ms) * 1000);
  const med = (f: (r: (typeof results)[number]) => number) => median(warm.map(f));
  report('backtest', {
    store: kind,
    scenario,
    mode,
    risk: values.risk,
    candles,
    decisions: (cold.sim as { decisions: number }).decisions,
    trades: cold.result.metrics.trades,
    readVia: cold.readVia,
    coldSeconds: Number((cold.timings.total / 1000).toFixed(3)),
    coldCandlesPerSecond: perSecond(cold.timings.total),
    seconds: Number((med((r) => r.timings.total) / 1000).toFixed(3)),
    candlesPerSecond: perSecond(med((r) => r.timings.total)),
    readSeconds: Number((med((r) => r.timings.read) / 1000).toFixed(3)),
    readCandlesPerSecond: perSecond(med((r) => r.timings.read)),
    kernelSeconds: Number((med((r) => r.timings.simulate) / 1000).toFixed(3)),
    kernelCandlesPerSecond: perSecond(med((r) => r.timings.simulate)),
    storeSeconds: Number((med((r) => r.timings.store) / 1000).toFixed(3)),
    cpuSeconds: Number(median(cpu.slice(1)).toFixed(3)),
    load: [Number(loadBefore.toFixed(2)), Number(loadavg()[0]!.toFixed(2))],
    peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
    runs,
    decisionHash: cold.decisionHash,
    sameResultEveryRun: results.every(
      (r) =>
        JSON.stringify(r.result.metrics) === JSON.stringify(cold.result.metrics) &&
        (mode === 'store' || r.decisionHash === cold.decisionHash),
    ),
  });
  await store.close();
  await database.close();
  process.exit(0);
}

// ─── parent: scratch stores, then one child per measurement ──────────────────────────────────

const stores = (values.store as string[] | undefined) ?? ['pglite', 'postgres'];
const scenarios = ((values.scenario as string[] | undefined) ?? ['btc-1m', '5x1h']) as Scenario[];
const modes = (values.mode as string[] | undefined) ?? ['no-store', 'store'];

function filesFor(scenario: Scenario): string[] {
  if (scenario === 'btc-1m') return klineFiles('BTCUSDT-1m-2021-');
  return SCENARIOS['5x1h'].symbols.map((s) =>
    join(SHARED_DATA, 'freqtrade-1h', `${s.replace('/', '_')}-1h.json`),
  );
}

function measure(kind: string, location: string, scenario: Scenario, mode: string): Promise<void> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      new URL(import.meta.url).pathname,
      '--child',
      [kind, location, scenario, mode].join('|'),
      '--runs',
      String(values.runs),
      '--risk',
      String(values.risk),
    ],
    { stdio: ['ignore', 'inherit', 'inherit'] },
  );
  return new Promise((resolve, reject) =>
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`child exited with ${code}`)))),
  );
}

for (const kind of stores) {
  let location: string;
  let cleanup: () => Promise<void>;
  if (kind === 'postgres') {
    const scratch = await scratchDatabase('backtest');
    if (!scratch) {
      process.stderr.write('backtest bench: no PostgreSQL on 127.0.0.1:5432, skipped\n');
      continue;
    }
    location = scratch.url;
    cleanup = () => scratch.drop();
  } else {
    const dir = mkdtempSync(join(tmpdir(), 'tk-bench-backtest-'));
    location = dir;
    cleanup = async () => rmSync(dir, { recursive: true, force: true });
  }
  try {
    {
      const { store, database } = await openStore(kind, location);
      for (const scenario of scenarios) {
        const started = performance.now();
        const imported = await importCandles(store, filesFor(scenario));
        if (imported.error) throw new Error(imported.error.message);
        process.stderr.write(
          `backtest bench: ${kind}: imported ${imported.totals.new} candles for ${scenario} in ${((performance.now() - started) / 1000).toFixed(1)} s\n`,
        );
      }
      await store.close();
      await database.close();
    }
    for (const scenario of scenarios) for (const mode of modes) await measure(kind, location, scenario, mode);
  } finally {
    await cleanup();
  }
}
report('backtest-machine', machine());
