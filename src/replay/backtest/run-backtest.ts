/**
 * A backtest run end to end: candles from the market streams → simulate → the run's account
 * stream `bt-<runId>` (RunStarted, the decision events, RunCompleted) → the result.
 *
 * Run id: unless given, `<strategy>-<12 hex>` from a SHA-256 over the canonical JSON of every
 * input that shapes decisions (strategy name, version and params, exchange, timeframe, symbols,
 * from, to, settings, kernel version). The same command gives the same run id, so the same
 * stream; and since decision event ids derive from the run id, the same events.
 *
 * When `bt-<runId>` already exists:
 * - it holds the same RunStarted and a RunCompleted: nothing is appended; the run is re-derived
 *   in memory and its decision hash compared with the stored one (a mismatch is an error that
 *   points at `replay verify`);
 * - it holds the same RunStarted but no RunCompleted (an interrupted append): the batches are
 *   appended again; those already stored are idempotent no-ops, the rest completes the run;
 * - it holds another run's RunStarted (only with an explicit --run-id): refused.
 */
import { createHash } from 'node:crypto';
import { ConfigError } from '../../domain/errors.js';
import { canonicalJson } from '../../domain/events/canonical-json.js';
import { newEvent } from '../../domain/events/catalogue.js';
import type { NewEvent, RecordedEvent } from '../../domain/events/envelope.js';
import { deterministicId } from '../../domain/events/ids.js';
import { marketStream } from '../../domain/market/events.js';
import type { Metrics } from '../../domain/performance/metrics.js';
import type { ClosedTrade } from '../../domain/portfolio/position.js';
import type { EventStore } from '../../domain/ports/event-store.js';
import {
  RunCompleted,
  type RunCompletedData,
  RunStarted,
  type RunStartedData,
} from '../../domain/runs/events.js';
import type { CandleSeries } from './candle-series.js';
import { MissingDataError, openMarketRead, type SymbolCoverage } from './market-data.js';
import { type BacktestSpec, kernelSetup, strategyOf } from './settings.js';
import { backtestAccount, IncrementalSimulation, type SimulationResult } from './simulate.js';

/**
 * Events per append of a stored run: the batches go out while the replay runs, each as soon as
 * the kernel has made its events. Every run cuts them the same way (a retry repeats them exactly).
 */
export const APPEND_BATCH = 8_192;

/** The result JSON (docs/backtesting.md, "Result JSON"): keep it stable. */
export interface BacktestResult {
  runId: string;
  strategy: { name: string; version: string; params: Record<string, number> };
  period: { from: string; to: string };
  kernelVersion: string;
  dataPoints: number;
  metrics: Metrics;
  trades: ResultTrade[];
  /** [close time epoch ms, equity] per distinct candle close time */
  equity: [number, number][];
}

export interface ResultTrade {
  symbol: string;
  side: 'long';
  entryTime: string;
  entryPrice: number;
  exitTime: string;
  exitPrice: number;
  quantity: number;
  fees: number;
  pnl: number;
  pnlPct: number;
  exitReason: string;
}

export function deriveRunId(spec: BacktestSpec, kernelVersion: string): string {
  const strategy = strategyOf(spec);
  const inputs = {
    strategy: { name: strategy.name, version: strategy.version, params: strategy.params },
    exchange: spec.exchange,
    timeframe: spec.timeframe,
    symbols: spec.symbols,
    from: spec.from,
    to: spec.to,
    settings: spec.settings,
    kernelVersion,
  };
  const hash = createHash('sha256').update(canonicalJson(inputs)).digest('hex');
  return `${strategy.name}-${hash.slice(0, 12)}`;
}

export function runStartedData(spec: BacktestSpec, runId: string, kernelVersion: string): RunStartedData {
  const strategy = strategyOf(spec);
  return {
    runId,
    account: backtestAccount(runId),
    mode: 'backtest',
    strategies: [{ name: strategy.name, version: strategy.version, params: { ...strategy.params } }],
    exchange: spec.exchange,
    timeframe: spec.timeframe,
    symbols: [...spec.symbols],
    from: spec.from,
    to: spec.to,
    inputStreams: spec.symbols.map((s) => marketStream(spec.exchange, s, spec.timeframe)),
    settings: JSON.parse(JSON.stringify(spec.settings)) as Record<string, unknown>,
    kernelVersion,
  };
}

/** The spec a RunStarted describes (what `replay verify` re-derives the run from). */
export function specFromRunStarted(data: RunStartedData): BacktestSpec {
  const strategy = data.strategies[0];
  if (data.strategies.length !== 1 || !strategy)
    throw new ConfigError(`run ${data.runId}: expected one strategy, found ${data.strategies.length}`);
  const spec: BacktestSpec = {
    strategy: { name: strategy.name, params: strategy.params as Record<string, number> },
    exchange: data.exchange,
    timeframe: data.timeframe as BacktestSpec['timeframe'],
    symbols: data.symbols,
    from: data.from,
    to: data.to ?? Number.MAX_SAFE_INTEGER,
    settings: data.settings as unknown as BacktestSpec['settings'],
  };
  const version = strategyOf(spec).version;
  if (version !== strategy.version) {
    throw new ConfigError(
      `run ${data.runId} used ${strategy.name} version ${strategy.version}; this build has version ${version}`,
      'the run cannot be re-derived with another version of the strategy',
    );
  }
  return spec;
}

/** The run's first event, RunStarted. */
export function runStartedEvent(started: RunStartedData): NewEvent {
  return newEvent(
    RunStarted,
    deterministicId(started.from, started.account, started.runId, 'RunStarted'),
    started,
    {
      occurredAt: started.from,
      mode: 'backtest',
      runId: started.runId,
    },
  );
}

/** RunStarted, the decisions and RunCompleted: everything `bt-<runId>` holds. */
export function runEvents(
  started: RunStartedData,
  sim: SimulationResult,
): { first: NewEvent; last: NewEvent; completed: RunCompletedData } {
  const account = started.account;
  const first = runStartedEvent(started);
  const lastTime = sim.equity.time.length > 0 ? sim.equity.time[sim.equity.time.length - 1]! : started.from;
  const completed: RunCompletedData = {
    runId: started.runId,
    dataPoints: sim.dataPoints,
    decisions: sim.decisions,
    decisionHash: sim.decisionHash!,
    metrics: jsonSafe(sim.metrics),
  };
  const last = newEvent(
    RunCompleted,
    deterministicId(lastTime, account, started.runId, 'RunCompleted'),
    completed,
    {
      occurredAt: lastTime,
      causationId: first.id,
      correlationId: first.id,
      mode: 'backtest',
      runId: started.runId,
    },
  );
  return { first, last, completed };
}

export function toResult(
  spec: BacktestSpec,
  runId: string,
  sim: SimulationResult,
  kernelVersion: string,
): BacktestResult {
  const strategy = strategyOf(spec);
  const { time, equity } = sim.equity;
  let points: [number, number][] | undefined;
  return {
    runId,
    strategy: { name: strategy.name, version: strategy.version, params: { ...strategy.params } },
    period: { from: isoUtc(spec.from), to: isoUtc(spec.to) },
    kernelVersion,
    dataPoints: sim.dataPoints,
    metrics: sim.metrics,
    trades: sim.trades.map(resultTrade),
    // Built when first read (the JSON, the report): a year of 1-minute candles is 525,000 pairs,
    // which a run printing only its summary does not need.
    get equity(): [number, number][] {
      if (points === undefined) {
        points = new Array(time.length);
        for (let i = 0; i < time.length; i++) points[i] = [time[i]!, equity[i]!];
      }
      return points;
    },
  };
}

export function resultTrade(t: ClosedTrade): ResultTrade {
  return {
    symbol: t.symbol,
    side: t.side,
    entryTime: isoUtc(t.entryTime),
    entryPrice: t.entryPrice,
    exitTime: isoUtc(t.exitTime),
    exitPrice: t.exitPrice,
    quantity: t.quantity,
    fees: t.fees,
    pnl: t.pnl,
    pnlPct: t.pnlPct,
    exitReason: t.exitReason,
  };
}

// ─── the run ─────────────────────────────────────────────────────────────────────────────────

export interface RunOptions {
  kernelVersion: string;
  /** default: deriveRunId */
  runId?: string;
  /** false: nothing is written (--no-store) */
  store?: boolean;
  /** force the way candles are read (default: the store's bulk read when it has one) */
  readVia?: 'bulk' | 'port';
  /** wall clock, to tell what cannot have closed yet (tests pin it) */
  now?: number;
  /** events per append (default and most APPEND_BATCH) */
  batchSize?: number;
  onReadProgress?: (candles: number) => void;
  onSimulateProgress?: (done: number, total: number) => void;
  onStoreProgress?: (events: number, total: number) => void;
}

export type StoredAs = 'appended' | 'resumed' | 'already-stored' | 'not-stored';

export interface BacktestRun {
  runId: string;
  account: string;
  result: BacktestResult;
  sim: SimulationResult;
  coverage: readonly SymbolCoverage[];
  /** the candles replayed (for reports) */
  series: CandleSeries;
  storedAs: StoredAs;
  decisionHash: string;
  /**
   * Milliseconds. The kernel replays each page of candles as it arrives, so reading and the
   * kernel overlap: `read` is the wall time from the start until the last candle was read and
   * replayed, `simulate` the part of it spent in the kernel (and the decision hash, and the
   * metrics at the end), `store` the appends, `total` the whole run.
   */
  timings: { read: number; simulate: number; store: number; total: number };
  readVia: 'bulk' | 'port';
}

export async function runBacktest(
  store: EventStore,
  spec: BacktestSpec,
  options: RunOptions,
): Promise<BacktestRun> {
  const started = performance.now();
  const runId = options.runId ?? deriveRunId(spec, options.kernelVersion);
  const setup = kernelSetup(spec, runId); // validates before any reading
  const account = backtestAccount(runId);
  const startedData = runStartedData(spec, runId, options.kernelVersion);
  const existing = options.store === false ? null : await existingRun(store, account, startedData);

  const request = {
    exchange: spec.exchange,
    timeframe: spec.timeframe,
    symbols: spec.symbols,
    from: spec.from,
    to: spec.to,
  };
  const market = await openMarketRead(store, request, {
    ...(options.readVia ? { via: options.readVia } : {}),
    ...(options.onReadProgress ? { onProgress: options.onReadProgress } : {}),
  });
  const missing = market.missing(options.now ?? Date.now());
  if (missing.length > 0) throw new MissingDataError(request, missing);
  // The kernel runs on each page as it arrives, while the store sends the next ones.
  const simulation = new IncrementalSimulation(market.series, setup, {
    collect: options.store === false ? 'hash' : 'events',
  });
  // Storing: RunStarted and each full batch of decisions are appended while the replay goes on
  // (the store works on the other core); the rest and RunCompleted after it.
  const append =
    options.store !== false && !existing?.completed
      ? new RunAppend(
          store,
          account,
          startedData,
          simulation,
          Math.min(APPEND_BATCH, Math.max(1, options.batchSize ?? APPEND_BATCH)),
          options.onStoreProgress,
        )
      : null;
  let kernelMs = 0;
  const data = await market.readAll((filled, finished) => {
    const t = performance.now();
    simulation.advance(filled, finished);
    kernelMs += performance.now() - t;
    append?.sendFullBatches();
  });
  const read = performance.now();
  const sim = simulation.finish();
  const simulated = performance.now();
  kernelMs += simulated - read;
  options.onSimulateProgress?.(sim.dataPoints, sim.dataPoints);

  let storedAs: StoredAs = 'not-stored';
  if (existing?.completed) {
    if (existing.completed.decisionHash !== sim.decisionHash) {
      throw new ConfigError(
        `${account} is stored with decision hash ${existing.completed.decisionHash}, but re-deriving it gives ${sim.decisionHash}`,
        `the kernel or the market data changed under the same version: see \`tradekernel replay verify ${runId}\``,
      );
    }
    storedAs = 'already-stored';
  } else if (append) {
    await append.finish(sim);
    storedAs = existing ? 'resumed' : 'appended';
  }
  const stored = performance.now();
  return {
    runId,
    account,
    result: toResult(spec, runId, sim, options.kernelVersion),
    sim,
    coverage: data.coverage,
    series: data.series,
    storedAs,
    decisionHash: sim.decisionHash!,
    timings: {
      read: read - started,
      simulate: kernelMs,
      store: stored - simulated,
      total: stored - started,
    },
    readVia: data.via,
  };
}

/** What `bt-<runId>` already holds of this run; refuses another run's stream. */
async function existingRun(
  store: EventStore,
  account: string,
  started: RunStartedData,
): Promise<{ completed: RunCompletedData | null } | null> {
  const revision = await store.streamRevision(account);
  if (revision < 0) return null;
  let first: RecordedEvent | undefined;
  for await (const e of store.readStream(account, { maxCount: 1 })) first = e;
  if (first?.type !== RunStarted.type || canonicalJson(first.data) !== canonicalJson(started)) {
    throw new ConfigError(
      `${account} already holds another run`,
      'choose another --run-id, or leave it out to get the run id of these inputs',
    );
  }
  for await (const e of store.readStream(account, { direction: 'backwards', maxCount: 1 })) {
    if (e.type === RunCompleted.type) return { completed: e.data as RunCompletedData };
  }
  return { completed: null };
}

/**
 * [RunStarted, ...decisions, RunCompleted] appended in batches of `size` (the same cut every
 * time: a retry repeats them exactly, and a batch already stored is a no-op), each with its
 * expected revision, one after another. Full batches go out as the kernel makes their events
 * (sendFullBatches), the rest with RunCompleted at the end (finish).
 */
class RunAppend {
  private readonly first: NewEvent;
  /** stream index (= revision) of the first event not yet sent */
  private sent = 0;
  private chain: Promise<void> = Promise.resolve();
  private failure: { error: unknown } | undefined;

  constructor(
    private readonly store: EventStore,
    private readonly account: string,
    private readonly started: RunStartedData,
    private readonly simulation: IncrementalSimulation,
    private readonly size: number,
    private readonly onProgress?: (events: number, total: number) => void,
  ) {
    this.first = runStartedEvent(started);
  }

  sendFullBatches(): void {
    const available = 1 + this.simulation.events.length; // RunStarted + the decisions so far
    while (this.sent + this.size <= available && !this.failure) this.send(this.sent + this.size, undefined);
  }

  async finish(sim: SimulationResult): Promise<void> {
    const last = runEvents(this.started, sim).last;
    const total = sim.events!.length + 2;
    while (this.sent < total && !this.failure) this.send(Math.min(total, this.sent + this.size), last);
    await this.chain;
    if (this.failure) throw this.failure.error;
  }

  /** Queues events [sent, end) of the stream; `last` is RunCompleted once known. */
  private send(end: number, last: NewEvent | undefined): void {
    const start = this.sent;
    const decisions = this.simulation.events;
    const batch: NewEvent[] = new Array(end - start);
    for (let i = start; i < end; i++)
      batch[i - start] = i === 0 ? this.first : i === decisions.length + 1 ? last! : decisions[i - 1]!;
    this.sent = end;
    this.chain = this.chain.then(async () => {
      if (this.failure) return;
      try {
        await this.store.append(this.account, batch, start - 1);
        this.onProgress?.(end, last ? decisions.length + 2 : end);
      } catch (error) {
        this.failure = { error };
      }
    });
  }
}

function jsonSafe(metrics: Metrics): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(metrics))
    out[k] = typeof v === 'number' && !Number.isFinite(v) ? null : v;
  return out;
}

export function isoUtc(ms: number): string {
  return new Date(ms).toISOString();
}
