import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/**
 * Every Prometheus metric tradekernel exposes, behind one typed API. Each process builds one
 * TradekernelMetrics (its own registry, so tests can build many) and hands it to whatever
 * records: the API (request latency), the event-store wrapper (appends), the projection worker
 * (lag, errors), the exchange adapters (request latency and errors) and the trading kernel
 * (positions, equity, drawdown, heat, decisions). Names and labels are listed in docs/api.md.
 *
 * Label values must come from small fixed sets (event types, projection names, routes,
 * accounts, exchanges): never ids, symbols of arbitrary input, or free text.
 */

export const METRIC_PREFIX = 'tradekernel_';

/** Seconds: 0.5 ms to 10 s, for request latencies on loopback and to the database. */
const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Seconds: 10 ms to 60 s, for exchange round trips (rate limits and retries included). */
const EXCHANGE_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

export type Outcome = 'ok' | 'error';

/** What the kernel decided; `risk_*` follow RiskDecisionMade's outcome. */
export const KERNEL_DECISIONS = [
  'signal',
  'risk_approved',
  'risk_resized',
  'risk_rejected',
  'order_submitted',
  'halt',
] as const;
export type KernelDecision = (typeof KERNEL_DECISIONS)[number];

export interface ExchangeRequestLabels {
  /** ccxt exchange id, e.g. binance */
  exchange: string;
  /** the API call, e.g. fetchOHLCV, createOrder */
  operation: string;
}

/** A snapshot of one account's portfolio; fields left out keep their last value. */
export interface PortfolioSnapshot {
  openPositions?: number;
  /** total equity in the quote currency */
  equity?: number;
  /** fall from the equity peak, as a fraction (0.12 = 12 %) */
  drawdown?: number;
  /** open risk (entry to stop, all positions) as a fraction of equity */
  heat?: number;
}

/** What a projection reports: the shape of ProjectionRunner.status() entries. */
export interface ProjectionLagSample {
  name: string;
  position: number;
  lag: number;
}

export interface MetricsOptions {
  /** Node process metrics (CPU, memory, event loop lag, GC): default true. */
  defaultMetrics?: boolean;
  /** build version for tradekernel_build_info */
  version?: string;
}

export class TradekernelMetrics {
  readonly registry = new Registry();

  readonly buildInfo: Gauge<'version' | 'node'>;
  readonly eventsAppended: Counter<'type'>;
  readonly appendDuration: Histogram<'outcome'>;
  readonly eventLogHead: Gauge;
  readonly eventStoreUp: Gauge;
  readonly projectionLag: Gauge<'projection'>;
  readonly projectionPosition: Gauge<'projection'>;
  readonly projectionErrors: Counter<'projection'>;
  readonly httpDuration: Histogram<'method' | 'route' | 'status'>;
  readonly exchangeDuration: Histogram<'exchange' | 'operation' | 'outcome'>;
  readonly exchangeErrors: Counter<'exchange' | 'operation' | 'kind'>;
  readonly openPositions: Gauge<'account'>;
  readonly equity: Gauge<'account'>;
  readonly drawdown: Gauge<'account'>;
  readonly heat: Gauge<'account'>;
  readonly kernelDecisions: Counter<'account' | 'decision'>;

  private headSource: (() => Promise<number>) | undefined;
  private projectionSource: (() => Promise<readonly ProjectionLagSample[]>) | undefined;
  private readonly sampleHead = inFlightShared(async () => {
    if (!this.headSource) return null;
    try {
      return await this.headSource();
    } catch {
      return null;
    }
  });
  private readonly sampleProjections = inFlightShared(async (): Promise<readonly ProjectionLagSample[]> => {
    if (!this.projectionSource) return [];
    try {
      return await this.projectionSource();
    } catch {
      return []; // unreachable: no samples rather than stale ones
    }
  });

  constructor(options: MetricsOptions = {}) {
    const registers = [this.registry];
    const p = METRIC_PREFIX;
    this.buildInfo = new Gauge({
      name: `${p}build_info`,
      help: 'Always 1; the labels name the running build.',
      labelNames: ['version', 'node'],
      registers,
    });
    this.buildInfo.set({ version: options.version ?? 'unknown', node: process.version }, 1);

    this.eventsAppended = new Counter({
      name: `${p}events_appended_total`,
      help: 'Events this process appended to the event log (idempotent retries not counted), by type.',
      labelNames: ['type'],
      registers,
    });
    this.appendDuration = new Histogram({
      name: `${p}event_store_append_duration_seconds`,
      help: 'Time of one append (one batch to one stream), by outcome.',
      labelNames: ['outcome'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    const self = this;
    this.eventLogHead = new Gauge({
      name: `${p}event_log_head_position`,
      help: 'Highest global position stored in the event log (read at scrape time; grows with appends of every process).',
      registers,
      async collect() {
        const head = await self.sampleHead();
        if (head !== null) this.set(head); // unreachable: keeps the last value, event_store_up says 0
      },
    });
    this.eventStoreUp = new Gauge({
      name: `${p}event_store_up`,
      help: 'Whether the event store answered at this scrape (1) or not (0).',
      registers,
      async collect() {
        if (self.headSource) this.set((await self.sampleHead()) === null ? 0 : 1);
      },
    });
    this.projectionLag = new Gauge({
      name: `${p}projection_lag_events`,
      help: 'Events of its types stored after the projection checkpoint (read at scrape time, capped).',
      labelNames: ['projection'],
      registers,
      async collect() {
        const samples = await self.sampleProjections();
        this.reset();
        for (const s of samples) this.set({ projection: s.name }, s.lag);
      },
    });
    this.projectionPosition = new Gauge({
      name: `${p}projection_position`,
      help: 'Global position of the last event the projection applied (its checkpoint).',
      labelNames: ['projection'],
      registers,
      async collect() {
        const samples = await self.sampleProjections();
        this.reset();
        for (const s of samples) this.set({ projection: s.name }, s.position);
      },
    });
    this.projectionErrors = new Counter({
      name: `${p}projection_errors_total`,
      help: 'Failed projection runs (the worker retries; a stopped projection keeps failing).',
      labelNames: ['projection'],
      registers,
    });
    this.httpDuration = new Histogram({
      name: `${p}http_request_duration_seconds`,
      help: 'API request latency by method, route template and status code.',
      labelNames: ['method', 'route', 'status'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.exchangeDuration = new Histogram({
      name: `${p}exchange_request_duration_seconds`,
      help: 'Exchange API request latency by exchange, operation and outcome.',
      labelNames: ['exchange', 'operation', 'outcome'],
      buckets: EXCHANGE_BUCKETS,
      registers,
    });
    this.exchangeErrors = new Counter({
      name: `${p}exchange_request_errors_total`,
      help: 'Failed exchange API requests by exchange, operation and error kind (the error class).',
      labelNames: ['exchange', 'operation', 'kind'],
      registers,
    });
    this.openPositions = new Gauge({
      name: `${p}open_positions`,
      help: 'Open positions of the account.',
      labelNames: ['account'],
      registers,
    });
    this.equity = new Gauge({
      name: `${p}equity`,
      help: "Account equity in the account's quote currency (cash plus positions at the last price).",
      labelNames: ['account'],
      registers,
    });
    this.drawdown = new Gauge({
      name: `${p}drawdown_ratio`,
      help: 'Fall of equity from its peak, as a fraction (0.12 = 12 %).',
      labelNames: ['account'],
      registers,
    });
    this.heat = new Gauge({
      name: `${p}portfolio_heat_ratio`,
      help: 'Open risk of all positions (entry to stop) as a fraction of equity.',
      labelNames: ['account'],
      registers,
    });
    this.kernelDecisions = new Counter({
      name: `${p}kernel_decisions_total`,
      help: `Trading kernel decisions by account and decision (${KERNEL_DECISIONS.join(', ')}).`,
      labelNames: ['account', 'decision'],
      registers,
    });
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry });
  }

  // --- event log ------------------------------------------------------------------------------

  /** Records one append: the events it wrote (none for an idempotent retry) and its duration. */
  recordAppend(written: readonly { type: string }[], seconds: number, outcome: Outcome): void {
    this.appendDuration.observe({ outcome }, seconds);
    for (const event of written) this.eventsAppended.inc({ type: event.type });
  }

  /** Reads the log's head position at each scrape. */
  watchEventLog(headPosition: () => Promise<number>): void {
    this.headSource = headPosition;
  }

  // --- projections ----------------------------------------------------------------------------

  /** Reads projection lag and checkpoints at each scrape (one status call serves both gauges). */
  watchProjections(status: () => Promise<readonly ProjectionLagSample[]>): void {
    this.projectionSource = status;
  }

  recordProjectionError(projection: string): void {
    this.projectionErrors.inc({ projection });
  }

  // --- API ------------------------------------------------------------------------------------

  /** `route` is the route template (`/v1/candles`), never the raw URL. */
  observeHttp(method: string, route: string, status: number, seconds: number): void {
    this.httpDuration.observe({ method, route, status: String(status) }, seconds);
  }

  // --- exchange -------------------------------------------------------------------------------

  observeExchangeRequest(labels: ExchangeRequestLabels, seconds: number, outcome: Outcome): void {
    this.exchangeDuration.observe({ ...labels, outcome }, seconds);
  }

  recordExchangeError(labels: ExchangeRequestLabels, kind: string): void {
    this.exchangeErrors.inc({ ...labels, kind });
  }

  /** Times one exchange request; a failure is counted under the error's class name and rethrown. */
  async timeExchangeRequest<T>(labels: ExchangeRequestLabels, request: () => Promise<T>): Promise<T> {
    const start = performance.now();
    try {
      const result = await request();
      this.observeExchangeRequest(labels, (performance.now() - start) / 1000, 'ok');
      return result;
    } catch (error) {
      this.observeExchangeRequest(labels, (performance.now() - start) / 1000, 'error');
      this.recordExchangeError(labels, errorKind(error));
      throw error;
    }
  }

  // --- portfolio and kernel -------------------------------------------------------------------

  setPortfolio(account: string, snapshot: PortfolioSnapshot): void {
    if (snapshot.openPositions !== undefined) this.openPositions.set({ account }, snapshot.openPositions);
    if (snapshot.equity !== undefined) this.equity.set({ account }, snapshot.equity);
    if (snapshot.drawdown !== undefined) this.drawdown.set({ account }, snapshot.drawdown);
    if (snapshot.heat !== undefined) this.heat.set({ account }, snapshot.heat);
  }

  recordDecision(account: string, decision: KernelDecision, count = 1): void {
    this.kernelDecisions.inc({ account, decision }, count);
  }

  /**
   * Counts the decisions among events the kernel emitted (SignalEmitted, RiskDecisionMade,
   * OrderSubmitted, TradingHalted); other events are ignored. One call per handled input.
   */
  recordKernelEvents(events: readonly { type: string; data: unknown }[]): void {
    for (const event of events) {
      const decision = decisionOf(event);
      if (decision) this.recordDecision(accountOf(event.data), decision);
    }
  }

  // --- exposition -----------------------------------------------------------------------------

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The text exposition format of every metric. */
  render(): Promise<string> {
    return this.registry.metrics();
  }
}

/**
 * One call shared by everyone who asks while it runs: the gauges of one scrape are collected
 * concurrently, so they read the same status, and the next scrape reads a fresh one.
 */
function inFlightShared<T>(source: () => Promise<T>): () => Promise<T> {
  let running: Promise<T> | undefined;
  return () => {
    running ??= source().finally(() => {
      running = undefined;
    });
    return running;
  };
}

function decisionOf(event: { type: string; data: unknown }): KernelDecision | null {
  switch (event.type) {
    case 'SignalEmitted':
      return 'signal';
    case 'RiskDecisionMade': {
      const outcome = (event.data as { outcome?: unknown } | null)?.outcome;
      return outcome === 'approved' || outcome === 'resized' || outcome === 'rejected'
        ? `risk_${outcome}`
        : null;
    }
    case 'OrderSubmitted':
      return 'order_submitted';
    case 'TradingHalted':
      return 'halt';
    default:
      return null;
  }
}

function accountOf(data: unknown): string {
  const account = (data as { account?: unknown } | null)?.account;
  return typeof account === 'string' ? account : 'unknown';
}

function errorKind(error: unknown): string {
  const name = (error as { name?: unknown } | null)?.name;
  return typeof name === 'string' && /^[A-Za-z][A-Za-z0-9_]{0,60}$/.test(name) ? name : 'Error';
}
