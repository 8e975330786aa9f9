/**
 * Trading-kernel benchmark: the kernel alone, in memory, on the real 2021 BTC/USDT 1-minute
 * candles (525,600), with ema-cross (12/26), every risk rule on and the paper exchange.
 * The input events are built before timing (as a replay would have them read already); the
 * timed loop is `for (event of events) kernel.handle(event)`, output events included.
 *
 * Prints one JSON line: candles/s (median of the runs, each on a fresh kernel), heap used, and
 * an allocation estimate from a separate, untimed pass (see allocationPass): bytes per candle in
 * all, split into what a candle costs by itself (the per-candle path, which should allocate
 * nothing) and what each emitted event costs.
 * Usage: node --import tsx bench/kernel.bench.ts [--runs 7] [--days 365]
 */
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { readMarketFile } from '../src/adapters/market-files/index.js';
import { newEvent } from '../src/domain/events/catalogue.js';
import type { NewEvent } from '../src/domain/events/envelope.js';
import { deterministicId } from '../src/domain/events/ids.js';
import { defaultKernelConfig, TradingKernel } from '../src/domain/kernel/index.js';
import { CandleClosed } from '../src/domain/market/events.js';
import { riskNone } from '../src/domain/risk/index.js';
import { emaCross } from '../src/domain/strategies/index.js';
import { klineFiles, machine, median, report } from './support.js';

const { values } = parseArgs({
  options: { runs: { type: 'string', default: '7' }, days: { type: 'string', default: '365' } },
});
const runs = Math.max(5, Number(values.runs));

// `npm run bench` passes --expose-gc; standalone runs get gc() this way.
const gc: () => void =
  (globalThis as { gc?: () => void }).gc ??
  (() => {
    setFlagsFromString('--expose-gc');
    return runInNewContext('gc') as () => void;
  })();

async function candleEvents(): Promise<NewEvent[]> {
  const events: NewEvent[] = [];
  for (const file of klineFiles().slice(0, Number(values.days))) {
    for (const c of (await readMarketFile(file)).candles) {
      const closeTime = c.openTime + 60_000;
      events.push(
        newEvent(
          CandleClosed,
          deterministicId(c.openTime, 'binance', 'BTC/USDT', '1m', c.openTime),
          {
            exchange: 'binance',
            symbol: 'BTC/USDT',
            timeframe: '1m',
            openTime: c.openTime,
            closeTime,
            open: c.open,
            high: c.high,
            low: c.low,
            close: c.close,
            volume: c.volume,
          },
          { occurredAt: closeTime },
        ),
      );
    }
  }
  return events;
}

/**
 * `all-rules`: defaultKernelConfig, every risk rule on (fixed 20%, 2% risk, 2xATR stop,
 * trailing, time stop, 3R take-profit, 3 positions, 40% exposure, 6% heat, correlation,
 * drawdown, loss limits). `risk-none`: only 95% of equity per trade, for comparison with
 * engines without a risk manager (no halts, so it trades all year).
 */
type Variant = 'all-rules' | 'risk-none';

function newKernel(variant: Variant = 'all-rules'): TradingKernel {
  const config = defaultKernelConfig({
    initialCash: 10_000,
    ...(variant === 'risk-none' ? { risk: riskNone(0.95) } : {}),
  });
  return new TradingKernel(config, {
    accountId: 'bench',
    mode: 'backtest',
    runId: 'kernel-bench',
    exchange: 'binance',
    timeframe: '1m',
    symbols: ['BTC/USDT'],
    strategies: [emaCross({ fast: 12, slow: 26 })],
  });
}

function timedRun(events: readonly NewEvent[], variant: Variant) {
  const kernel = newKernel(variant);
  gc();
  const start = performance.now();
  let emitted = 0;
  for (let i = 0; i < events.length; i++) emitted += kernel.handle(events[i]!).length;
  const ms = performance.now() - start;
  return { ms, emitted, kernel };
}

/**
 * Allocation estimate, untimed: the heap is read every 1 024 candles (stretches where a GC ran,
 * and the heap shrank, are dropped), and each stretch's growth is fitted as
 * a + b x (events emitted in it) by least squares: a / 1 024 is what a candle costs by itself,
 * b what one output event costs.
 */
function allocationPass(events: readonly NewEvent[]) {
  const kernel = newKernel();
  const chunk = 1024;
  const xs: number[] = [];
  const ys: number[] = [];
  gc();
  for (let i = 0; i + chunk <= events.length; i += chunk) {
    let emitted = 0;
    const before = process.memoryUsage().heapUsed;
    for (let j = i; j < i + chunk; j++) emitted += kernel.handle(events[j]!).length;
    const grown = process.memoryUsage().heapUsed - before;
    if (grown < 0) continue;
    xs.push(emitted);
    ys.push(grown);
  }
  const n = xs.length;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (let k = 0; k < n; k++) {
    sxy += (xs[k]! - mx) * (ys[k]! - my);
    sxx += (xs[k]! - mx) ** 2;
  }
  const perEvent = sxx > 0 ? sxy / sxx : 0;
  const perChunk = my - perEvent * mx;
  return {
    bytesPerCandleAll: round(my / chunk, 1),
    bytesPerCandleItself: round(Math.max(0, perChunk) / chunk, 2),
    bytesPerEmittedEvent: Math.round(perEvent),
    stretchesMeasured: n,
  };
}

function round(x: number, digits = 3): number {
  return Number(x.toFixed(digits));
}

const loadStart = performance.now();
const events = await candleEvents();
const loadMs = performance.now() - loadStart;

for (const variant of ['all-rules', 'risk-none'] as const) {
  timedRun(events, variant); // warm-up: JIT
  const results = Array.from({ length: runs }, () => timedRun(events, variant));
  const rates = results.map((r) => events.length / (r.ms / 1000));
  const last = results.at(-1)!;
  gc();
  const heapUsedMiB = round(process.memoryUsage().heapUsed / 2 ** 20, 1);
  const allocation = variant === 'all-rules' ? allocationPass(events) : undefined;
  const status = last.kernel.status();
  report('kernel', {
    variant,
    strategy: 'ema-cross 12/26',
    candles: events.length,
    runs,
    candlesPerSecond: Math.round(median(rates)),
    candlesPerSecondMin: Math.round(Math.min(...rates)),
    candlesPerSecondMax: Math.round(Math.max(...rates)),
    msPerRun: round(median(results.map((r) => r.ms)), 1),
    eventsEmitted: last.emitted,
    trades: last.kernel.closedTrades().length,
    finalEquity: round(status.equity, 2),
    drawdownAtEnd: round(status.drawdown, 3),
    heapUsedMiB,
    inputEventsLoadMs: Math.round(loadMs),
    ...(allocation ? { allocation } : {}),
    loadAverage: loadavg().map((x) => round(x, 2)),
    machine: machine(),
  });
}
