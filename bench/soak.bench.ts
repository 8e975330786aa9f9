/**
 * The compressed soak (issue 7): 30 days of real hourly candles (BTC, ETH, SOL from
 * examples/candles, Binance 2022-08-01 on) through the whole service — kernel, paper fills,
 * projections worker, reports — on the virtual clock at full speed, with injected exchange
 * timeouts and errors on the candle source, and a restart in the middle (the second half starts
 * from the snapshot + the tail of the log). A fault-free run of the same data is the reference.
 *
 * Measures: uptime (virtual hours with a completed cycle), data collection (attempts, injected
 * failures, symbol-hours missed after retries, candles stored vs the source), decision latency
 * (candles in hand → decisions appended: storing, kernel, account append; the exchange fetch
 * excluded), orders (lost, duplicated, forgotten; decisions identical to the reference) and the
 * heap after GC over the 30 days.
 * Usage: node --expose-gc --import tsx bench/soak.bench.ts [--days 30] [--fault-rate 0.1] [--seed 7]
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { openContext } from '../src/cli/context.js';
import type { RecordedEvent } from '../src/domain/events/envelope.js';
import { marketStream } from '../src/domain/market/events.js';
import { validateServiceConfig } from '../src/service/config.js';
import type { CycleReport, PaperTradingService } from '../src/service/paper-service.js';
import { runService } from '../src/service/run-service.js';
import { FaultyCandleSource } from '../src/service/sources.js';
import { machine, median, report } from './support.js';

const { values } = parseArgs({
  options: {
    days: { type: 'string', default: '30' },
    'fault-rate': { type: 'string', default: '0.1' },
    seed: { type: 'string', default: '7' },
  },
});
const DAYS = Number(values.days);
const FAULT_RATE = Number(values['fault-rate']);
const HOURS = DAYS * 24;
const SYMBOLS = ['BTC/USDT', 'ETH/USDT', 'SOL/USDT'];
const EXAMPLES = new URL('../examples/candles/', import.meta.url).pathname;
const gc = (globalThis as { gc?: () => void }).gc;

const root = mkdtempSync(join(tmpdir(), 'tk-soak-'));
const candles = join(root, 'candles');
mkdirSync(candles);
let expectedCandles = 0;
for (const s of SYMBOLS) {
  const name = `${s.replace('/', '_')}-1h.json`;
  const rows = (JSON.parse(readFileSync(join(EXAMPLES, name), 'utf8')) as unknown[]).slice(0, HOURS);
  expectedCandles += rows.length;
  writeFileSync(join(candles, name), JSON.stringify(rows));
}

/** mulberry32: the same faults on every run of a seed */
function rng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const config = validateServiceConfig({
  account: 'soak',
  symbols: SYMBOLS,
  fetchAttempts: 3,
  api: { enabled: false },
  smtp: null,
});
const logger = pino({ level: 'silent' });

/** what the soak keeps per cycle: numbers only, so the bench itself does not grow the heap */
interface Sample {
  at: number;
  handled: number;
  latencyMs: number;
  failedSymbols: number;
  orders: number;
}

interface Phase {
  cycles: number;
  reports: Sample[];
  heap: { hour: number; heapMiB: number; rssMiB: number }[];
  attempts: number;
  failedAttempts: number;
  startMs: number;
  stopMs: number;
  recovery: PaperTradingService['lastRecovery'];
  reconciliation: PaperTradingService['lastReconciliation'];
}

async function phase(dataDir: string, faults: boolean, maxCycles?: number): Promise<Phase> {
  const random = rng(Number(values.seed));
  const out: Phase = {
    cycles: 0,
    reports: [],
    heap: [],
    attempts: 0,
    failedAttempts: 0,
    startMs: 0,
    stopMs: 0,
    recovery: null,
    reconciliation: null,
  };
  const began = performance.now();
  let lastCycleAt = 0;
  await runService({
    store: { dataDir },
    config,
    source: { kind: 'replay', path: candles },
    speed: 'max',
    version: 'soak',
    logger,
    signal: new AbortController().signal,
    api: null,
    mailer: null,
    reportDir: join(dataDir, 'reports'),
    retryDelayMs: () => 5,
    ...(maxCycles ? { maxCycles } : {}),
    ...(faults
      ? {
          // timeouts wait 20 real ms (a request that never answers), errors fail at once
          wrapSource: (inner) =>
            new FaultyCandleSource(
              inner,
              () => {
                const r = random();
                return r < FAULT_RATE * 0.4 ? 'timeout' : r < FAULT_RATE ? 'error' : false;
              },
              20,
            ),
        }
      : {}),
    onFetchAttempt: (ok) => {
      out.attempts++;
      if (!ok) out.failedAttempts++;
    },
    onStarted: (s) => {
      out.startMs = performance.now() - began;
      out.recovery = s.lastRecovery;
    },
    onCycle: (r, s) => {
      out.cycles++;
      out.reports.push(sampleOf(r));
      const hour = Math.round((r.watermark - firstOpen) / 3_600_000);
      if (out.cycles % 24 === 0) {
        gc?.();
        const m = process.memoryUsage();
        out.heap.push({ hour, heapMiB: m.heapUsed / 2 ** 20, rssMiB: m.rss / 2 ** 20 });
      }
      lastCycleAt = performance.now();
      out.reconciliation = s.reconcile();
    },
  });
  out.stopMs = performance.now() - lastCycleAt;
  return out;
}

function sampleOf(r: CycleReport): Sample {
  return {
    at: r.at,
    handled: r.candlesHandled,
    latencyMs: r.decisionLatencyMs,
    failedSymbols: r.failedSymbols.length,
    orders: r.decisions.filter((d) => d.type === 'OrderSubmitted').length,
  };
}

const firstOpen = (JSON.parse(readFileSync(join(candles, 'BTC_USDT-1h.json'), 'utf8')) as number[][])[0]![0]!;

async function accountEvents(dataDir: string): Promise<{ account: RecordedEvent[]; stored: number }> {
  const ctx = await openContext({ dataDir });
  try {
    const account: RecordedEvent[] = [];
    for await (const e of ctx.store.readStream('paper-soak')) account.push(e);
    let stored = 0;
    for (const s of SYMBOLS)
      for await (const e of ctx.store.readStream(marketStream('binance', s, '1h')))
        if (e.type === 'CandleClosed') stored++;
    return { account, stored };
  } finally {
    await ctx.close();
  }
}

const decisions = (events: RecordedEvent[]) =>
  events.filter((e) => e.type !== 'ServiceStarted').map((e) => `${e.type} ${e.id}`);
const quantile = (values: number[], q: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
};
const round = (n: number, digits = 2) => Number(n.toFixed(digits));

try {
  process.stderr.write(`soak: reference run, ${DAYS} days, no faults\n`);
  const referenceDir = join(root, 'reference');
  const referenceWall = performance.now();
  await phase(referenceDir, false);
  const referenceSeconds = (performance.now() - referenceWall) / 1000;
  const reference = await accountEvents(referenceDir);

  process.stderr.write(`soak: faulty run, first half (${HOURS / 2} cycles)\n`);
  const soakDir = join(root, 'soak');
  const wall = performance.now();
  const cpu = process.cpuUsage();
  const first = await phase(soakDir, true, HOURS / 2);
  process.stderr.write('soak: restart, second half\n');
  const second = await phase(soakDir, true);
  const seconds = (performance.now() - wall) / 1000;
  const cpuSeconds = (process.cpuUsage(cpu).user + process.cpuUsage(cpu).system) / 1e6;
  const soak = await accountEvents(soakDir);

  const reports = [...first.reports, ...second.reports];
  const latencies = reports.filter((r) => r.handled > 0).map((r) => r.latencyMs);
  const orderLatencies = reports.filter((r) => r.orders > 0).map((r) => r.latencyMs);
  const hoursWithCycle = new Set(reports.map((r) => Math.floor(r.at / 3_600_000))).size;
  const symbolHoursMissed = reports.reduce((n, r) => n + r.failedSymbols, 0);
  const orders = soak.account.filter((e) => e.type === 'OrderSubmitted');
  const orderIds = orders.map((e) => (e.data as { clientOrderId: string }).clientOrderId);
  const referenceOrderIds = new Set(
    reference.account
      .filter((e) => e.type === 'OrderSubmitted')
      .map((e) => (e.data as { clientOrderId: string }).clientOrderId),
  );
  const same = JSON.stringify(decisions(soak.account)) === JSON.stringify(decisions(reference.account));
  const heap = [...first.heap, ...second.heap];
  const attempts = first.attempts + second.attempts;
  const failedAttempts = first.failedAttempts + second.failedAttempts;

  const result = {
    days: DAYS,
    symbols: SYMBOLS.length,
    faultRate: FAULT_RATE,
    wallSeconds: round(seconds, 1),
    cpuSeconds: round(cpuSeconds, 1),
    referenceWallSeconds: round(referenceSeconds, 1),
    cycles: reports.length,
    restarts: 1,
    uptime: round(hoursWithCycle / HOURS, 4),
    restartMs: round(first.stopMs + second.startMs, 0),
    recovery: second.recovery,
    fetchAttempts: attempts,
    injectedFailures: failedAttempts,
    attemptSuccessRate: round(1 - failedAttempts / attempts, 4),
    symbolHoursMissedAfterRetries: symbolHoursMissed,
    onTimeCollectionRate: round(1 - symbolHoursMissed / (reports.length * SYMBOLS.length), 4),
    candlesStored: soak.stored,
    candlesExpected: expectedCandles,
    collectionRate: round(soak.stored / expectedCandles, 4),
    orders: orders.length,
    ordersDuplicated: orderIds.length - new Set(orderIds).size,
    ordersLost: [...referenceOrderIds].filter((id) => !orderIds.includes(id)).length,
    ordersForgotten: second.reconciliation?.forgotten.length ?? -1,
    decisionsIdenticalToReference: same,
    decisionEvents: decisions(soak.account).length,
    latencyMs: {
      median: round(median(latencies)),
      p99: round(quantile(latencies, 0.99)),
      max: round(Math.max(...latencies)),
    },
    latencyWithOrdersMs: {
      cycles: orderLatencies.length,
      median: round(median(orderLatencies)),
      p99: round(quantile(orderLatencies, 0.99)),
    },
    heapAfterGcMiB: {
      day1: round(heap[0]?.heapMiB ?? Number.NaN, 1),
      day15: round(heap[Math.floor(heap.length / 2)]?.heapMiB ?? Number.NaN, 1),
      day30: round(heap[heap.length - 1]?.heapMiB ?? Number.NaN, 1),
      max: round(Math.max(...heap.map((h) => h.heapMiB)), 1),
      rssMaxMiB: round(Math.max(...heap.map((h) => h.rssMiB)), 0),
      gc: gc !== undefined,
      byDay: heap.map((h) => round(h.heapMiB, 1)),
    },
    machine: machine(),
  };
  report('soak', result);
  const ok =
    result.collectionRate === 1 &&
    result.ordersDuplicated === 0 &&
    result.ordersLost === 0 &&
    result.ordersForgotten === 0 &&
    same &&
    result.latencyMs.median < 50;
  process.stderr.write(
    `soak: ${ok ? 'OK' : 'FAILED'}: uptime ${result.uptime * 100} %, collection ${result.collectionRate * 100} % after retries (${failedAttempts} injected failures in ${attempts} attempts), orders ${orders.length} (lost ${result.ordersLost}, duplicated ${result.ordersDuplicated}), latency median ${result.latencyMs.median} ms p99 ${result.latencyMs.p99} ms, heap ${result.heapAfterGcMiB.day1} → ${result.heapAfterGcMiB.day30} MiB\n`,
  );
  if (!ok) process.exitCode = 1;
} finally {
  rmSync(root, { recursive: true, force: true });
}
