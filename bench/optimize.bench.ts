/**
 * Optimisation benchmark: a 500-combination grid of ema-cross (fast 5..29 × slow 30..125:5, every
 * combination valid) on the real BTC/USDT 1h candles of 2018-01-01..2022-10-01 (the shared data
 * set ends 2022-10-11), objective Sharpe, risk none (95% of equity per trade), default fills,
 * on worker threads sharing one copy of the candles (SharedArrayBuffer).
 *
 * The candles are read from the freqtrade JSON file before timing (the store's read speed is the
 * backtest benchmark's subject). Timed: optimize() end to end — starting the workers, every trial
 * through `simulate`, ranking, and the overfitting diagnostics (DSR, CSCV PBO with 16 blocks).
 *
 * Prints JSON lines: the run (wall time, combinations/s, candles/s), memory per worker (each
 * worker's own V8 heap, reported after every trial: peak used, total, array buffers) and of the
 * main process (RSS before the pool, peak RSS sampled every 50 ms while it runs, heap), and the
 * RSS the workers added, per worker. RSS is per process: threads share it, so a worker's RSS is
 * only known as the growth it causes.
 * Usage: node --import tsx bench/optimize.bench.ts [--jobs 2] [--inline]   (--inline: also time 1 thread)
 */
import { parseArgs } from 'node:util';
import { readMarketFile } from '../src/adapters/market-files/index.js';
import { defaultKernelConfig } from '../src/domain/kernel/config.js';
import { riskNone } from '../src/domain/risk/config.js';
import { candleSeriesFromCandles } from '../src/replay/backtest/candle-series.js';
import { optimize } from '../src/replay/research/optimizer.js';
import { parseParamSpecs } from '../src/replay/research/param-space.js';
import { machine, report, SHARED_DATA } from './support.js';

const { values } = parseArgs({
  options: { jobs: { type: 'string', default: '2' }, inline: { type: 'boolean', default: false } },
});
const jobs = Number(values.jobs);

const FROM = Date.parse('2018-01-01T00:00:00Z');
const TO = Date.parse('2022-10-01T00:00:00Z');

const file = await readMarketFile(`${SHARED_DATA}freqtrade-1h/BTC_USDT-1h.json`);
const candles = file.candles.filter((c) => c.openTime >= FROM && c.openTime < TO);
const series = candleSeriesFromCandles('binance', '1h', [['BTC/USDT', candles]], { shared: true });
const params = parseParamSpecs(['fast=5..29:1', 'slow=30..125:5']);
const spec = {
  strategy: 'ema-cross',
  config: defaultKernelConfig({ initialCash: 10_000, risk: riskNone(0.95) }),
};

const mib = (b: number) => Math.round((b / 2 ** 20) * 10) / 10;

async function run(j: number) {
  const rssBefore = process.memoryUsage().rss;
  let rssPeak = rssBefore;
  const sampler = setInterval(() => {
    rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
  }, 50);
  const started = performance.now();
  const r = await optimize({ series, spec, params, objective: 'sharpe', search: { kind: 'grid' }, jobs: j });
  const wallMs = performance.now() - started;
  clearInterval(sampler);
  rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
  const candlesPerTrial = candles.length;
  report('optimize', {
    combinations: r.search.trials,
    jobs: j,
    candles: candlesPerTrial,
    wallSeconds: Math.round(wallMs) / 1000,
    combinationsPerSecond: Math.round((r.search.trials / (wallMs / 1000)) * 10) / 10,
    candlesPerSecond: Math.round((r.search.trials * candlesPerTrial) / (wallMs / 1000)),
    best: { params: r.best?.params, sharpe: r.best?.metrics.sharpe },
    deflatedSharpe: r.diagnostics.deflatedSharpe?.deflatedSharpe ?? null,
    pbo: r.diagnostics.pbo?.pbo ?? null,
  });
  for (const w of r.performance.workers) {
    report('optimize-worker-memory', {
      worker: w.worker,
      trials: w.tasks,
      heapUsedPeakMiB: mib(w.heapUsedPeak),
      heapTotalMiB: mib(w.heapTotal),
      arrayBuffersMiB: mib(w.arrayBuffers),
      externalMiB: mib(w.external),
    });
  }
  report('optimize-main-memory', {
    jobs: j,
    seriesMiB: mib(series.columns[0]!.openTime.buffer.byteLength),
    rssBeforeMiB: mib(rssBefore),
    rssPeakMiB: mib(rssPeak),
    rssAddedPerWorkerMiB: j > 1 ? mib((rssPeak - rssBefore) / j) : null,
    heapUsedMiB: mib(process.memoryUsage().heapUsed),
  });
}

report('optimize-machine', {
  ...machine(),
  from: '2018-01-01',
  to: '2022-10-01',
  symbol: 'BTC/USDT',
  timeframe: '1h',
});
await run(jobs);
if (values.inline) await run(1);
