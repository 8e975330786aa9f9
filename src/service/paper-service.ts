/**
 * The autonomous paper-trading loop (issue 7). One account, one writer, crash-only:
 *
 *   start = recover: read `paper-<account>` (RunStarted, ServiceStarted, control copies,
 *           decisions), append ServiceStarted with the expected revision (the fence), restore the
 *           kernel from the latest snapshot (src/service/snapshots.ts) when one fits the log, and
 *           replay the account's inputs after it (market streams + the control copies); append
 *           whatever decisions the log is missing (a crash between the market append and the
 *           account append); then reconcile the orders by client order id.
 *   cycle = wait for the next candle close (+ settle delay) on the Clock (real or virtual);
 *           take new control actions from `control-<account>`; fetch the closed candles of every
 *           symbol through the CandleSource (ccxt live, or a recorded replay: the same code);
 *           append them to the market streams (deterministic ids, expected revisions); hand the
 *           kernel every candle up to the watermark (the oldest symbol's newest close) in close
 *           time order; append its decisions to the account stream in one batch; every few
 *           cycles save a snapshot.
 *
 * The kernel's inputs are therefore always a prefix of "every stored candle from RunStarted.from,
 * merged by close time" plus the control copies, each applied after every candle closing at or
 * before its occurredAt. Recovery replays exactly that (from a snapshot or from the start), so
 * the rebuilt kernel is the one that crashed, and the stored decisions must be a prefix of what
 * it re-derives (checked, by id).
 *
 * Control actions are copied into the account stream (same type and data, deterministic id,
 * causationId = the original's id) when the kernel takes them: their position among the
 * candles is then part of the log. Stale data (a candle older than maxDataAge on arrival, e.g.
 * the hours a laptop slept) is handled under a service pause (TradingPaused with actor
 * `service`, written before the candles are), so indicators and stops follow it but no new
 * decision is taken on it; the resume follows the last stale candle.
 */
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import { ConfigError, StoreDataError } from '../domain/errors.js';
import { newEvent } from '../domain/events/catalogue.js';
import type { NewEvent, RecordedEvent } from '../domain/events/envelope.js';
import { deterministicId } from '../domain/events/ids.js';
import { KernelSnapshotError } from '../domain/kernel/errors.js';
import { TradingKernel } from '../domain/kernel/trading-kernel.js';
import { marketStream } from '../domain/market/events.js';
import { alignTime, timeframeMs } from '../domain/market/timeframe.js';
import { DataCollectionFailed, ServiceStarted } from '../domain/operations/events.js';
import type { ClosedTrade } from '../domain/portfolio/position.js';
import type { CandleSource } from '../domain/ports/candle-source.js';
import type { EventStore } from '../domain/ports/event-store.js';
import { RunStarted, type RunStartedData } from '../domain/runs/events.js';
import { AccountLedger } from './account-ledger.js';
import type { Clock } from './clock.js';
import { accountStreamOf, decisionSettings, kernelSetupOf, type ServiceConfig } from './config.js';
import { type CandleClosedEvent, MarketFeed } from './market-feed.js';
import { SERVICE_SNAPSHOT_FORMAT, type ServiceSnapshot, type SnapshotStore } from './snapshots.js';

export const CONTROL_TYPES = new Set([
  'TradingPaused',
  'TradingResumed',
  'KillSwitchEngaged',
  'LiquidationRequested',
]);
const BOOKKEEPING_TYPES = new Set([
  'RunStarted',
  'RunCompleted',
  'ServiceStarted',
  'DataCollectionFailed',
  'ExchangeErrorObserved',
]);
export const SERVICE_ACTOR = 'service';

export const controlStreamOf = (account: string) => `control-${account}`;
export const operationsStreamOf = (account: string) => `ops-${account}`;

export interface CycleReport {
  /** the clock when the cycle began */
  at: number;
  /** correlation id of the cycle's log lines */
  cycleId: string;
  candlesFetched: number;
  candlesHandled: number;
  decisions: NewEvent[];
  /** event time the kernel has handled up to */
  watermark: number;
  failedSymbols: string[];
  staleCandles: number;
  /**
   * candles in hand → decisions durable, ms: storing the candles, the kernel, appending the
   * decisions. Excludes waiting for the close and fetching from the exchange.
   */
  decisionLatencyMs: number;
}

export interface ServiceHooks {
  /** every decision event appended (after the append), with the candle it came from */
  onDecisions?(events: readonly NewEvent[]): void | Promise<void>;
  onCycle?(report: CycleReport): void | Promise<void>;
  onCollectionFailed?(symbol: string, error: unknown): void | Promise<void>;
  /** each fetch attempt, ok or not (collection statistics) */
  onFetchAttempt?(ok: boolean): void;
}

export interface ServiceOptions {
  store: EventStore;
  source: CandleSource;
  clock: Clock;
  config: ServiceConfig;
  logger: Logger;
  version: string;
  /** open time of the first input candle of a new account (default: now - warmup) */
  from?: number;
  hooks?: ServiceHooks;
  /** pause between fetch attempts (real ms; default 2 s × attempt) */
  retryDelayMs?: (attempt: number) => number;
  /** where snapshots go; null: none (every start replays the whole log) */
  snapshots?: SnapshotStore | null;
  /** cycles between snapshots (default 24: a day of hourly candles) */
  snapshotEvery?: number;
  /** the service is stopping: a cycle fetches no more symbols and waits for no retry */
  stop?: AbortSignal;
}

export interface Reconciliation {
  submitted: number;
  terminal: number;
  working: number;
  /** client order ids submitted, not terminal, and not working in the kernel: forgotten orders */
  forgotten: string[];
  /** working in the kernel but never submitted in the log */
  unknown: string[];
}

export interface Recovery {
  /** 'snapshot': restored and replayed the tail; 'log': replayed everything */
  from: 'snapshot' | 'log';
  /** account revision of the snapshot used (-1: none) */
  snapshotRevision: number;
  candlesReplayed: number;
  controlsReplayed: number;
  /** decisions appended because the log was missing them */
  recoveredDecisions: number;
}

export class PaperTradingService {
  readonly account: string;
  private readonly step: number;
  private kernel!: TradingKernel;
  private feed!: MarketFeed;
  private revision = -1;
  private lastEventId = '';
  private runStartedId = '';
  private runId = '';
  private from = 0;
  /** the kernel has handled every candle closing at or before this */
  private watermark = Number.NEGATIVE_INFINITY;
  /** revision of the last control-stream event taken or passed over */
  private controlRevision = -1;
  private servicePaused = false;
  private haltedUntilResume = false;
  private haltedSincePause = false;
  private started = false;
  private lastCycleClose = Number.NEGATIVE_INFINITY;
  private cyclesSinceSnapshot = 0;
  /** the equity curve before the kernel instance (restored from a snapshot) */
  private curvePrefix: { time: number[]; equity: number[] } = { time: [], equity: [] };
  /** trades, open orders and the recent decisions: bounded, the rest stays in the log */
  private readonly ledger = new AccountLedger();
  lastReconciliation: Reconciliation | null = null;
  lastRecovery: Recovery | null = null;

  constructor(private readonly o: ServiceOptions) {
    this.account = accountStreamOf(o.config);
    this.step = timeframeMs(o.config.timeframe);
  }

  get kernelView(): TradingKernel {
    return this.kernel;
  }
  /** open time of the account's first input candle */
  get startedFrom(): number {
    return this.from;
  }
  get handledUntil(): number {
    return this.watermark;
  }
  get accountRevision(): number {
    return this.revision;
  }

  /** Every trade the account closed, from its PositionClosed events (survives restarts). */
  closedTrades(): ClosedTrade[] {
    return [...this.ledger.trades];
  }

  /** The account's decisions of the last days of event time (what reports list), in log order. */
  get recentDecisions(): readonly NewEvent[] {
    return this.ledger.recent;
  }

  /** Equity per candle close since the account started (snapshot prefix + this instance). */
  equityCurve(): { time: Float64Array; equity: Float64Array } {
    const own = this.kernel.equityCurve();
    const n = this.curvePrefix.time.length;
    const time = new Float64Array(n + own.time.length);
    const equity = new Float64Array(n + own.time.length);
    time.set(this.curvePrefix.time);
    equity.set(this.curvePrefix.equity);
    time.set(own.time, n);
    equity.set(own.equity, n);
    return { time, equity };
  }

  // ─── recovery (start and restart are the same path) ──────────────────────────────────────

  async start(): Promise<void> {
    const { store } = this.o;
    const stored = await collect(store.readStream(this.account));
    let runStarted: Pick<RecordedEvent, 'id' | 'type' | 'data'> | undefined = stored[0];
    this.revision = stored.length - 1;
    this.lastEventId = stored[stored.length - 1]?.id ?? '';
    const isNew = !runStarted;
    if (!runStarted) {
      runStarted = await this.openAccount();
    } else {
      if (runStarted.type !== 'RunStarted')
        throw new StoreDataError(`${this.account} does not start with RunStarted`);
      const data = runStarted.data as RunStartedData;
      this.checkSameSetup(data);
      this.runId = data.runId;
      this.from = data.from;
    }
    this.runStartedId = runStarted.id;
    // the fence: a second instance that read the same revision fails here or at its next append
    const started = newEvent(
      ServiceStarted,
      deterministicId(this.o.clock.now(), this.account, 'ServiceStarted', this.revision),
      { service: 'paper-trading', version: this.o.version, host: hostname().slice(0, 200), pid: process.pid },
      { occurredAt: this.o.clock.now(), mode: 'paper', runId: this.runId },
    );
    await this.appendAccount([started]);

    const snapshot = await this.usableSnapshot(stored);
    await this.rebuild(stored, snapshot, isNew);
    this.started = true;
  }

  private async openAccount(): Promise<Pick<RecordedEvent, 'id' | 'type' | 'data'>> {
    const { config, logger } = this.o;
    const now = this.o.clock.now();
    this.from = this.o.from ?? alignTime(now, config.timeframe) - config.warmupCandles * this.step;
    this.runId = config.account;
    const data: RunStartedData = {
      runId: this.runId,
      account: this.account,
      mode: 'paper',
      strategies: kernelSetupOf(config, this.runId).context.strategies.map((s) => ({
        name: s.name,
        version: s.version,
        params: { ...s.params },
      })),
      exchange: config.exchange,
      timeframe: config.timeframe,
      symbols: [...config.symbols],
      from: this.from,
      inputStreams: [
        ...config.symbols.map((s) => marketStream(config.exchange, s, config.timeframe)),
        controlStreamOf(this.account),
      ],
      settings: decisionSettings(config),
      kernelVersion: this.o.version,
    };
    const event = newEvent(RunStarted, deterministicId(this.from, this.account, 'RunStarted'), data, {
      occurredAt: this.from,
      mode: 'paper',
      runId: this.runId,
    });
    const result = await this.o.store.append(this.account, [event], 'no_stream');
    this.revision = result.nextExpectedRevision;
    this.lastEventId = event.id;
    logger.info({ account: this.account, from: new Date(this.from).toISOString() }, 'new paper account');
    return event;
  }

  private checkSameSetup(data: RunStartedData): void {
    const { config } = this.o;
    const want = {
      exchange: config.exchange,
      timeframe: config.timeframe,
      symbols: [...config.symbols],
      strategies: kernelSetupOf(config, data.runId).context.strategies.map(
        (s) => `${s.name}@${s.version}:${JSON.stringify(s.params)}`,
      ),
      settings: JSON.stringify(decisionSettings(config)),
    };
    const have = {
      exchange: data.exchange,
      timeframe: data.timeframe,
      symbols: data.symbols,
      strategies: data.strategies.map((s) => `${s.name}@${s.version}:${JSON.stringify(s.params)}`),
      settings: JSON.stringify(data.settings),
    };
    for (const key of Object.keys(want) as (keyof typeof want)[]) {
      if (JSON.stringify(want[key]) !== JSON.stringify(have[key])) {
        throw new ConfigError(
          `account ${this.account} was started with other ${key} than the config now gives (${JSON.stringify(have[key]).slice(0, 300)})`,
          'a running account keeps its setup: choose a new "account" name in the config to start another one',
        );
      }
    }
  }

  /** The latest snapshot when it belongs to this run and the log still has its event. */
  private async usableSnapshot(stored: RecordedEvent[]): Promise<ServiceSnapshot | null> {
    const snapshots = this.o.snapshots;
    if (!snapshots) return null;
    const snapshot = await snapshots.load(this.account);
    if (!snapshot) return null;
    const at = stored[snapshot.accountRevision];
    const fits =
      snapshot.format === SERVICE_SNAPSHOT_FORMAT &&
      snapshot.runStartedId === this.runStartedId &&
      at !== undefined &&
      at.id === snapshot.accountEventId &&
      Number.isFinite(snapshot.watermark);
    if (!fits) {
      this.o.logger.warn(
        { account: this.account, snapshotRevision: snapshot.accountRevision },
        'snapshot does not fit the log: replaying the whole log',
      );
      return null;
    }
    return snapshot;
  }

  private feedOptions() {
    const { config, store, source, logger } = this.o;
    return {
      store,
      source,
      logger,
      exchange: config.exchange,
      timeframe: config.timeframe,
      symbols: config.symbols,
      from: this.from,
      fetchAttempts: config.fetchAttempts,
      retryDelayMs: this.o.retryDelayMs ?? ((attempt: number) => 2_000 * attempt),
      ...(this.o.hooks?.onFetchAttempt ? { onAttempt: this.o.hooks.onFetchAttempt } : {}),
      ...(this.o.stop ? { stop: this.o.stop } : {}),
    };
  }

  /**
   * Rebuilds the kernel: restored from `snapshot` (or new), then every input after it: the
   * market streams' candles and the account stream's control copies, in the order the loop took
   * them. The stored decisions after the snapshot must be a prefix of the re-derived ones.
   * A new account has handled nothing: candles already stored (a `data download`, another
   * account's replay) stay pending for the first cycle, which applies the stale-data rule.
   */
  private async rebuild(
    stored: RecordedEvent[],
    snapshot: ServiceSnapshot | null,
    isNew: boolean,
  ): Promise<void> {
    const { config, logger } = this.o;
    const setup = kernelSetupOf(config, this.runId);
    let restored: ServiceSnapshot | null = null;
    if (snapshot) {
      try {
        this.kernel = TradingKernel.restore(setup.config, setup.context, snapshot.kernel);
        restored = snapshot;
      } catch (error) {
        if (!(error instanceof KernelSnapshotError)) throw error;
        logger.warn({ err: error.message }, 'snapshot refused by the kernel: replaying the whole log');
      }
    }
    if (!restored) this.kernel = new TradingKernel(setup.config, setup.context);
    const tailFrom = restored ? restored.accountRevision + 1 : 1;
    if (restored) {
      this.watermark = restored.watermark;
      this.controlRevision = restored.controlRevision;
      this.servicePaused = restored.flags.servicePaused;
      this.haltedUntilResume = restored.flags.haltedUntilResume;
      this.haltedSincePause = restored.flags.haltedSincePause;
      this.curvePrefix = { time: [...restored.curve.time], equity: [...restored.curve.equity] };
    }
    // the decisions before the snapshot are history as stored; the tail is re-derived
    const controls: RecordedEvent[] = [];
    const storedTail: RecordedEvent[] = [];
    const storedBefore: RecordedEvent[] = [];
    for (const e of stored.slice(1)) {
      if (CONTROL_TYPES.has(e.type)) {
        if (e.revision >= tailFrom) controls.push(e);
      } else if (!BOOKKEEPING_TYPES.has(e.type)) {
        if (e.revision >= tailFrom) storedTail.push(e);
        else storedBefore.push(e);
      }
    }
    this.ledger.add(storedBefore);
    this.feed = new MarketFeed(this.feedOptions());
    await this.feed.load(restored ? restored.markets : null);

    const consumed = new Set<string>();
    const derived: NewEvent[] = [];
    let nextControl = 0;
    const applyControlsUpTo = (time: number) => {
      while (nextControl < controls.length && controls[nextControl]!.metadata.occurredAt <= time) {
        const c = controls[nextControl++]!;
        if (c.metadata.causationId) consumed.add(c.metadata.causationId);
        this.noteControl(c);
        for (const e of this.kernel.handle(c)) {
          this.noteDecision(e);
          derived.push(e);
        }
      }
    };
    const watermark = isNew ? this.watermark : Math.max(this.feed.watermark(), this.watermark);
    const candles = isNew ? [] : this.feed.takeUpTo(watermark);
    // Candles after the account's last recorded event may never have reached it: its cycle
    // crashed before the account append, or another process (a data download) stored them while
    // it was down. A decision on one of them that is stale by now is not re-derived silently:
    // the kernel takes that candle again under a service pause, as a late cycle would.
    // (a decision is stamped no earlier than the open of the candle that made it: a candle
    // closing after the latest stamp + one step cannot have made a recorded decision)
    let lastRecorded = restored?.watermark ?? Number.NEGATIVE_INFINITY;
    for (const e of [...storedBefore, ...storedTail]) {
      lastRecorded = Math.max(lastRecorded, e.metadata.occurredAt + this.step);
    }
    // a control copy is taken after every candle that closed at or before its time
    for (const e of controls) lastRecorded = Math.max(lastRecorded, e.metadata.occurredAt);
    const staleBefore = this.o.clock.now() - config.maxDataAgeMs;
    let lastClose = this.watermark;
    for (const candle of candles) {
      applyControlsUpTo(candle.data.closeTime - 1);
      const unrecorded = candle.data.closeTime > lastRecorded;
      if (
        unrecorded &&
        this.servicePaused &&
        candle.data.closeTime >= staleBefore &&
        !this.haltedSincePause
      ) {
        derived.push(
          ...this.serviceControl('TradingResumed', 'fresh data again after a stale-data pause', lastClose),
        );
      }
      let out: readonly NewEvent[] | null = null;
      if (unrecorded && candle.data.closeTime < staleBefore) {
        out = this.handleUnlessDeciding(candle, setup);
        if (out === null) {
          derived.push(
            ...this.serviceControl(
              'TradingPaused',
              `stale data on restart: candles older than ${config.maxDataAgeMs / 60_000} min that the account had not taken; no decisions on them`,
              candle.data.closeTime - 1,
            ),
          );
        }
      }
      out ??= this.kernel.handle(candle);
      for (const e of out) {
        this.noteDecision(e);
        derived.push(e);
      }
      lastClose = candle.data.closeTime;
    }
    applyControlsUpTo(Number.POSITIVE_INFINITY);
    if (watermark > this.watermark) this.watermark = watermark;
    await this.advanceControlCursor(consumed);

    for (let i = 0; i < storedTail.length; i++) {
      const s = storedTail[i]!;
      const d = derived[i];
      if (!d || d.id !== s.id || d.type !== s.type) {
        throw new StoreDataError(
          `${this.account}: stored decision at revision ${s.revision} (${s.type} ${s.id}) differs from the re-derived one (${d ? `${d.type} ${d.id}` : 'none'})`,
          'the account was written by another kernel version or setup: audit it (tradekernel audit) before trading on',
        );
      }
    }
    const missing = derived.slice(storedTail.length);
    if (missing.length > 0) {
      await this.appendAccount(missing);
      logger.warn(
        { account: this.account, events: missing.length },
        'recovered decisions the log was missing (crash before the account append)',
      );
    }
    this.ledger.add(derived);
    this.lastRecovery = {
      from: restored ? 'snapshot' : 'log',
      snapshotRevision: restored ? restored.accountRevision : -1,
      candlesReplayed: candles.length,
      controlsReplayed: controls.length,
      recoveredDecisions: missing.length,
    };
    this.lastReconciliation = this.reconcile();
    if (this.lastReconciliation.forgotten.length > 0 || this.lastReconciliation.unknown.length > 0) {
      throw new StoreDataError(
        `${this.account}: orders out of sync: forgotten ${this.lastReconciliation.forgotten.join(', ') || 'none'}, unknown ${this.lastReconciliation.unknown.join(', ') || 'none'}`,
      );
    }
    logger.info(
      {
        account: this.account,
        recovery: this.lastRecovery,
        watermark: isoOrNull(this.watermark),
        orders: this.lastReconciliation,
      },
      'account recovered from the log',
    );
  }

  /**
   * Moves the control cursor past every control event the account stream has a copy of. The
   * loop takes controls in stream order, all at once, so the consumed ones are a prefix.
   */
  private async advanceControlCursor(consumed: ReadonlySet<string>): Promise<void> {
    if (consumed.size === 0) return;
    for await (const e of this.o.store.readStream(controlStreamOf(this.account), {
      fromRevision: this.controlRevision + 1,
    }))
      if (consumed.has(e.id)) this.controlRevision = e.revision;
  }

  /**
   * Orders, by client order id: every OrderSubmitted is either terminal (filled in full,
   * cancelled, expired, rejected) or working in the kernel; never both, never neither. The paper
   * exchange fills inside the kernel, from the log, so a restart cannot lose a fill; a live venue
   * would query the exchange for the `forgotten` ones here instead of resubmitting.
   */
  reconcile(): Reconciliation {
    const open = this.ledger.openOrders;
    const working = new Set(this.kernel.workingOrders().map((o) => o.clientOrderId));
    return {
      submitted: this.ledger.submitted,
      terminal: this.ledger.terminal,
      working: working.size,
      forgotten: [...open].filter((id) => !working.has(id)),
      unknown: [...working].filter((id) => !open.has(id)),
    };
  }

  /** Saves the state as of the last append (after a cycle, and at a clean stop). */
  async saveSnapshot(): Promise<boolean> {
    const snapshots = this.o.snapshots;
    if (!snapshots || !this.started || !Number.isFinite(this.watermark)) return false;
    const curve = this.equityCurve();
    await snapshots.save(this.account, {
      format: SERVICE_SNAPSHOT_FORMAT,
      runStartedId: this.runStartedId,
      accountRevision: this.revision,
      accountEventId: this.lastEventId,
      watermark: this.watermark,
      kernel: this.kernel.snapshot(),
      markets: this.feed.cursors(),
      controlRevision: this.controlRevision,
      flags: {
        servicePaused: this.servicePaused,
        haltedUntilResume: this.haltedUntilResume,
        haltedSincePause: this.haltedSincePause,
      },
      curve: { time: [...curve.time], equity: [...curve.equity] },
    });
    this.cyclesSinceSnapshot = 0;
    return true;
  }

  // ─── the loop ─────────────────────────────────────────────────────────────────────────────

  /**
   * When the next cycle is due: now when a candle closed (and settled) since the last cycle,
   * else the next close plus the settle delay. A symbol the exchange stopped serving does not
   * make the loop spin: it is asked again at the next close.
   */
  nextDue(): number {
    const now = this.o.clock.now();
    const settle = this.o.config.settleDelayMs;
    const latestClose = alignTime(now - settle, this.o.config.timeframe);
    return latestClose > this.lastCycleClose ? now : latestClose + this.step + settle;
  }

  /** One cycle: controls, fetch, append market data, decide, append decisions. */
  async cycle(): Promise<CycleReport> {
    if (!this.started) throw new Error('start() first');
    const { config, logger, clock } = this.o;
    const now = clock.now();
    this.lastCycleClose = alignTime(now - config.settleDelayMs, config.timeframe);
    const cycleId = deterministicId(now, this.account, 'cycle', now);
    const log = logger.child({ cycle: cycleId, account: this.account });

    // 1. control actions from the API / CLI, in the order they were recorded. Each takes effect
    // at its request time among this cycle's candles: after those that closed before it, before
    // the rest (rebuild() puts the stored copies in the same place). Those requested before the
    // last candle handled are taken now; the request time is read on the service's clock (a
    // replay's virtual clock is years behind the wall clock the CLI stamps with).
    const batch: NewEvent[] = [];
    const decisions: NewEvent[] = [];
    const controls = (await this.newControls()).map((c) => ({
      original: c,
      copy: this.controlCopy(
        c.type,
        c.data as Record<string, unknown>,
        c.id,
        Math.max(this.controlTime(), Math.min(c.metadata.occurredAt, now)),
      ),
    }));
    let nextControl = 0;
    const takeControlsUpTo = (time: number) => {
      while (nextControl < controls.length && controls[nextControl]!.copy.metadata.occurredAt <= time) {
        const { original: c, copy } = controls[nextControl++]!;
        batch.push(copy);
        this.noteControl(copy);
        const out = this.kernel.handle(copy);
        batch.push(...out);
        decisions.push(...out);
        log.info(
          {
            control: c.type,
            actor: (c.data as { actor: string }).actor,
            reason: (c.data as { reason: string }).reason,
            causationId: c.id,
            correlationId: copy.metadata.correlationId,
          },
          'control action taken',
        );
      }
    };
    takeControlsUpTo(this.controlTime());

    // 2. fetch the closed candles of every symbol
    const { fetched, failed } = await this.feed.fetchAll(now);
    const fetchedAt = performance.now();
    let fetchedCount = 0;
    for (const candles of fetched.values()) fetchedCount += candles.length;
    for (const [symbol, error] of failed) {
      log.error(
        { symbol, err: (error as Error)?.message ?? String(error) },
        'data collection failed after retries',
      );
      await this.recordCollectionFailure(symbol, error, now);
    }

    // 3. stale data: pause before the stale candles are even stored (crash-safe ordering)
    const staleBefore = now - config.maxDataAgeMs;
    let staleCount = 0;
    for (const candles of fetched.values())
      for (const c of candles) if (c.openTime + this.step < staleBefore) staleCount++;
    // candles stored earlier and still pending (another symbol was missing) age too
    staleCount += this.feed.pendingClosingBefore(staleBefore);
    const status = this.kernel.status();
    if (
      staleCount > 0 &&
      !this.servicePaused &&
      !status.paused &&
      !status.killSwitch &&
      !this.haltedUntilResume
    ) {
      const pause = this.controlCopy(
        'TradingPaused',
        {
          account: this.account,
          actor: SERVICE_ACTOR,
          reason: `stale data: ${staleCount} candle(s) older than ${config.maxDataAgeMs / 60_000} min on arrival; no decisions on them`,
        },
        null,
        this.controlTime(),
      );
      batch.push(pause);
      this.noteControl(pause);
      batch.push(...this.kernel.handle(pause));
      await this.appendAccount(batch.splice(0));
      log.warn(
        {
          skip: 'stale-data',
          stale: staleCount,
          maxDataAgeMs: config.maxDataAgeMs,
          correlationId: pause.metadata.correlationId,
          eventId: pause.id,
        },
        'decision skipped: stale data (service pause until fresh data)',
      );
    }

    // 4. store the candles (market streams), then decide up to the watermark
    for (const [symbol, candles] of fetched) if (candles.length > 0) await this.feed.append(symbol, candles);
    // never a candle the clock has not closed yet (a replay over candles stored by another run)
    const watermark = Math.max(Math.min(this.feed.watermark(), now), this.watermark);
    let handled = 0;
    for (const candle of this.feed.takeUpTo(watermark)) {
      takeControlsUpTo(candle.data.closeTime - 1);
      if (this.servicePaused && candle.data.closeTime >= staleBefore && !this.haltedSincePause) {
        const resume = this.controlCopy(
          'TradingResumed',
          {
            account: this.account,
            actor: SERVICE_ACTOR,
            reason: 'fresh data again after a stale-data pause',
          },
          null,
          this.watermark,
        );
        batch.push(resume);
        this.noteControl(resume);
        batch.push(...this.kernel.handle(resume));
        log.info({ at: new Date(this.watermark).toISOString() }, 'fresh data: service pause lifted');
      }
      const out = this.handleCandle(candle);
      handled++;
      if (out.length > 0) {
        batch.push(...out);
        decisions.push(...out);
      }
    }
    takeControlsUpTo(Number.POSITIVE_INFINITY);
    if (watermark > this.watermark) this.watermark = watermark;
    if (batch.length > 0) await this.appendAccount(batch);
    const decisionLatencyMs = performance.now() - fetchedAt;
    this.ledger.add(decisions);
    for (const e of decisions) log.info(decisionLogLine(e), 'decision');
    const report: CycleReport = {
      at: now,
      cycleId,
      candlesFetched: fetchedCount,
      candlesHandled: handled,
      decisions,
      watermark: this.watermark,
      failedSymbols: [...failed.keys()],
      staleCandles: staleCount,
      decisionLatencyMs,
    };
    log.debug(
      {
        fetched: fetchedCount,
        handled,
        decisions: decisions.length,
        watermark: isoOrNull(this.watermark),
        latencyMs: Number(decisionLatencyMs.toFixed(2)),
      },
      'cycle done',
    );
    if (++this.cyclesSinceSnapshot >= (this.o.snapshotEvery ?? 24)) {
      // a snapshot is a cache: failing to write one never stops trading
      await this.saveSnapshot().catch((error: unknown) =>
        log.warn({ err: (error as Error).message }, 'snapshot not saved; the next start replays more'),
      );
    }
    if (decisions.length > 0) await this.o.hooks?.onDecisions?.(decisions);
    await this.o.hooks?.onCycle?.(report);
    return report;
  }

  private handleCandle(candle: CandleClosedEvent): readonly NewEvent[] {
    const out = this.kernel.handle(candle);
    this.watermark = candle.data.closeTime;
    for (const e of out) this.noteDecision(e);
    return out;
  }

  /**
   * Handles a stale candle that may never have reached the account, unless the kernel would
   * decide on it and may (not paused, halted or killed already): then it is left untaken (the
   * kernel restored from before it) and null returned, for the caller to pause first.
   */
  private handleUnlessDeciding(
    candle: CandleClosedEvent,
    setup: ReturnType<typeof kernelSetupOf>,
  ): readonly NewEvent[] | null {
    const status = this.kernel.status();
    if (this.servicePaused || status.paused || status.killSwitch || this.haltedUntilResume) {
      return this.kernel.handle(candle);
    }
    const before = this.kernel.snapshot();
    const out = this.kernel.handle(candle);
    if (out.length === 0) return out;
    this.kernel = TradingKernel.restore(setup.config, setup.context, before);
    return null;
  }

  /** A control action of the service itself, taken by the kernel: the copy and its decisions. */
  private serviceControl(type: 'TradingPaused' | 'TradingResumed', reason: string, at: number): NewEvent[] {
    const control = this.controlCopy(type, { account: this.account, actor: SERVICE_ACTOR, reason }, null, at);
    this.noteControl(control);
    const out = [control];
    for (const e of this.kernel.handle(control)) {
      this.noteDecision(e);
      out.push(e);
    }
    return out;
  }

  private controlTime(): number {
    return Number.isFinite(this.watermark) ? this.watermark : this.from;
  }

  private controlCopy(
    type: string,
    data: Record<string, unknown>,
    originalId: string | null,
    at: number,
  ): NewEvent {
    const id = deterministicId(at, this.account, 'control', type, originalId ?? `${SERVICE_ACTOR}:${at}`);
    return {
      id,
      type,
      data: { account: this.account, actor: data.actor, reason: data.reason },
      metadata: {
        occurredAt: at,
        causationId: originalId,
        correlationId: originalId ?? id,
        schemaVersion: 1,
        mode: 'paper',
        runId: this.runId,
      },
    };
  }

  private noteControl(e: Pick<NewEvent, 'type' | 'data' | 'metadata'>): void {
    const actor = (e.data as { actor?: string }).actor;
    if (e.type === 'TradingPaused' && actor === SERVICE_ACTOR) {
      this.servicePaused = true;
      this.haltedSincePause = false;
    } else {
      this.servicePaused = false;
      if (e.type === 'TradingResumed') this.haltedUntilResume = false;
    }
  }

  private noteDecision(e: NewEvent): void {
    if (e.type === 'TradingHalted' && (e.data as { until: number | null }).until === null) {
      this.haltedUntilResume = true;
      if (this.servicePaused) this.haltedSincePause = true;
    }
  }

  /** Control events recorded since the last one taken (other accounts' are passed over). */
  private async newControls(): Promise<RecordedEvent[]> {
    const out: RecordedEvent[] = [];
    for await (const e of this.o.store.readStream(controlStreamOf(this.account), {
      fromRevision: this.controlRevision + 1,
    })) {
      this.controlRevision = e.revision;
      if (!CONTROL_TYPES.has(e.type)) continue;
      if ((e.data as { account?: string }).account !== this.account) continue;
      out.push(e);
    }
    return out;
  }

  private async recordCollectionFailure(symbol: string, error: unknown, now: number): Promise<void> {
    const event = newEvent(
      DataCollectionFailed,
      deterministicId(now, this.account, 'DataCollectionFailed', symbol, now),
      {
        source: this.o.source.location.slice(0, 200),
        operation: `fetch ${symbol} ${this.o.config.timeframe}`,
        error: String((error as Error)?.message ?? error).slice(0, 4_000),
        attempt: this.o.config.fetchAttempts,
      },
      { occurredAt: now, mode: 'paper', runId: this.runId },
    );
    await this.o.store.append(operationsStreamOf(this.account), [event], 'any');
    await this.o.hooks?.onCollectionFailed?.(symbol, error);
  }

  private async appendAccount(events: NewEvent[]): Promise<void> {
    const result = await this.o.store.append(this.account, events, this.revision);
    this.revision = result.nextExpectedRevision;
    this.lastEventId = events[events.length - 1]!.id;
  }
}

/** One log line per decision: what, which candle or control caused it, and its correlation. */
function decisionLogLine(e: NewEvent): Record<string, unknown> {
  const d = e.data as { symbol?: string; clientOrderId?: string; strategy?: string; outcome?: string };
  return {
    decision: e.type,
    id: e.id,
    correlationId: e.metadata.correlationId,
    causationId: e.metadata.causationId,
    occurredAt: new Date(e.metadata.occurredAt).toISOString(),
    symbol: d.symbol,
    strategy: d.strategy,
    clientOrderId: d.clientOrderId,
    outcome: d.outcome,
  };
}

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

function isoOrNull(t: number): string | null {
  return Number.isFinite(t) ? new Date(t).toISOString() : null;
}
