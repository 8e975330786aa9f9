/**
 * The autonomous paper-trading loop (issue 7). One account, one writer, crash-only:
 *
 *   start = recover: read `paper-<account>` (RunStarted, ServiceStarted, control copies,
 *           decisions), append ServiceStarted with the expected revision (the fence), rebuild the
 *           kernel by replaying the account's inputs (market streams + the control copies) and
 *           append whatever decisions the log is missing (a crash between the market append and
 *           the account append); then reconcile the orders by client order id.
 *   cycle = wait for the next candle close (+ settle delay) on the Clock (real or virtual);
 *           take new control actions from `control-<account>`; fetch the closed candles of every
 *           symbol through the CandleSource (ccxt live, or a recorded replay: the same code);
 *           append them to the market streams (deterministic ids, expected revisions); hand the
 *           kernel every candle up to the watermark (the oldest symbol's newest close) in close
 *           time order; append its decisions to the account stream in one batch.
 *
 * The kernel's inputs are therefore always a prefix of "every stored candle from RunStarted.from,
 * merged by close time" plus the control copies, each applied after every candle closing at or
 * before its occurredAt. Recovery replays exactly that, so the rebuilt kernel is the one that
 * crashed, and the stored decisions must be a prefix of what it re-derives (checked, by id).
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
import { ConfigError, StoreDataError, WrongExpectedRevisionError } from '../domain/errors.js';
import { newEvent } from '../domain/events/catalogue.js';
import type { NewEvent, RecordedEvent } from '../domain/events/envelope.js';
import { deterministicId } from '../domain/events/ids.js';
import { TradingKernel } from '../domain/kernel/trading-kernel.js';
import type { Candle, MarketKey } from '../domain/market/candle.js';
import { candleStreamEvents } from '../domain/market/candle-events.js';
import { dropUnclosedCandles } from '../domain/market/closed-candles.js';
import type { CandleClosedData } from '../domain/market/events.js';
import { marketStream } from '../domain/market/events.js';
import type { CandleGap } from '../domain/market/gaps.js';
import { alignTime, timeframeMs } from '../domain/market/timeframe.js';
import { DataCollectionFailed, ServiceStarted } from '../domain/operations/events.js';
import type { CandleSource } from '../domain/ports/candle-source.js';
import type { EventStore } from '../domain/ports/event-store.js';
import { RunStarted, type RunStartedData } from '../domain/runs/events.js';
import type { Clock } from './clock.js';
import { accountStreamOf, decisionSettings, kernelSetupOf, type ServiceConfig } from './config.js';

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
const TERMINAL_ORDER_TYPES = new Set(['OrderCancelled', 'OrderExpired', 'OrderRejected']);

export const controlStreamOf = (account: string) => `control-${account}`;
export const operationsStreamOf = (account: string) => `ops-${account}`;

export interface CycleReport {
  /** the clock when the cycle began */
  at: number;
  candlesFetched: number;
  candlesHandled: number;
  decisions: NewEvent[];
  /** event time the kernel has handled up to */
  watermark: number;
  failedSymbols: string[];
  staleCandles: number;
  /** candle close → decisions appended, ms of processing (excludes waiting and fetching) */
  decisionLatencyMs: number;
}

export interface ServiceHooks {
  /** every decision event appended (after the append), with the candle it came from */
  onDecisions?(events: readonly NewEvent[]): void | Promise<void>;
  onCycle?(report: CycleReport): void | Promise<void>;
  onCollectionFailed?(symbol: string, error: unknown): void | Promise<void>;
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

interface Sym {
  symbol: string;
  stream: string;
  key: MarketKey;
  /** revision of the market stream's last event (-1 none) */
  revision: number;
  /** open time of the newest stored candle (-inf none) */
  lastOpen: number;
  /** stored, not yet handled by the kernel (close time above the watermark) */
  pending: CandleClosedEvent[];
}

type CandleClosedEvent = NewEvent<'CandleClosed', CandleClosedData>;

export class PaperTradingService {
  readonly account: string;
  private readonly step: number;
  private kernel!: TradingKernel;
  private revision = -1;
  private runId = '';
  private from = 0;
  private symbols: Sym[] = [];
  /** the kernel has handled every candle closing at or before this */
  private watermark = Number.NEGATIVE_INFINITY;
  private consumedControls = new Set<string>();
  private servicePaused = false;
  private haltedUntilResume = false;
  private haltedSincePause = false;
  private started = false;
  private lastCycleClose = Number.NEGATIVE_INFINITY;
  /** every decision this kernel derived since its rebuild (the whole account history) */
  readonly history: NewEvent[] = [];
  lastReconciliation: Reconciliation | null = null;

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

  // ─── recovery (start and restart are the same path) ──────────────────────────────────────

  async start(): Promise<void> {
    const { store, config, logger } = this.o;
    const stored = await collect(store.readStream(this.account));
    let runStarted = stored[0];
    this.revision = stored.length - 1;
    if (!runStarted) {
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
      const result = await store.append(this.account, [event], 'no_stream');
      this.revision = result.nextExpectedRevision;
      runStarted = {
        ...event,
        stream: this.account,
        revision: 0,
        position: result.position,
        metadata: { ...event.metadata, recordedAt: now },
      };
      logger.info({ account: this.account, from: new Date(this.from).toISOString() }, 'new paper account');
    } else {
      if (runStarted.type !== 'RunStarted')
        throw new StoreDataError(`${this.account} does not start with RunStarted`);
      const data = runStarted.data as RunStartedData;
      this.checkSameSetup(data);
      this.runId = data.runId;
      this.from = data.from;
    }
    // the fence: a second instance that read the same revision fails here or at its next append
    const started = newEvent(
      ServiceStarted,
      deterministicId(this.o.clock.now(), this.account, 'ServiceStarted', this.revision),
      { service: 'paper-trading', version: this.o.version, host: hostname().slice(0, 200), pid: process.pid },
      { occurredAt: this.o.clock.now(), mode: 'paper', runId: this.runId },
    );
    this.revision = (await store.append(this.account, [started], this.revision)).nextExpectedRevision;

    await this.rebuild([...stored.slice(1)]);
    this.started = true;
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

  private async rebuild(accountEvents: RecordedEvent[]): Promise<void> {
    const { store, config, logger } = this.o;
    const setup = kernelSetupOf(config, this.runId);
    this.kernel = new TradingKernel(setup.config, setup.context);
    const controls: RecordedEvent[] = [];
    const storedDecisions: RecordedEvent[] = [];
    for (const e of accountEvents) {
      if (CONTROL_TYPES.has(e.type)) controls.push(e);
      else if (!BOOKKEEPING_TYPES.has(e.type)) storedDecisions.push(e);
    }
    // market streams
    this.symbols = [];
    for (const symbol of config.symbols) {
      const stream = marketStream(config.exchange, symbol, config.timeframe);
      const events = await collect(store.readStream(stream));
      const candles = events.filter((e) => e.type === 'CandleClosed') as unknown as CandleClosedEvent[];
      const last = candles[candles.length - 1];
      this.symbols.push({
        symbol,
        stream,
        key: { exchange: config.exchange, symbol, timeframe: config.timeframe },
        revision: events.length - 1,
        lastOpen: last ? last.data.openTime : Number.NEGATIVE_INFINITY,
        pending: candles.filter((c) => c.data.openTime >= this.from),
      });
    }
    const watermark = this.computeWatermark();
    const derived: NewEvent[] = [];
    let nextControl = 0;
    const applyControlsUpTo = (time: number) => {
      while (nextControl < controls.length && controls[nextControl]!.metadata.occurredAt <= time) {
        const c = controls[nextControl++]!;
        this.noteControl(c);
        for (const e of this.kernel.handle(c)) {
          this.noteDecision(e);
          derived.push(e);
        }
      }
    };
    for (const candle of this.takeUpTo(watermark)) {
      applyControlsUpTo(candle.data.closeTime - 1);
      for (const e of this.kernel.handle(candle)) {
        this.noteDecision(e);
        derived.push(e);
      }
    }
    applyControlsUpTo(Number.POSITIVE_INFINITY);
    if (watermark > this.watermark) this.watermark = watermark;
    // the stored decisions must be a prefix of the re-derived ones
    for (let i = 0; i < storedDecisions.length; i++) {
      const s = storedDecisions[i]!;
      const d = derived[i];
      if (!d || d.id !== s.id || d.type !== s.type) {
        throw new StoreDataError(
          `${this.account}: stored decision #${i} (${s.type} ${s.id}) differs from the re-derived one (${d ? `${d.type} ${d.id}` : 'none'})`,
          'the account was written by another kernel version or setup: audit it (tradekernel audit) before trading on',
        );
      }
    }
    const missing = derived.slice(storedDecisions.length);
    if (missing.length > 0) {
      await this.appendAccount(missing);
      logger.warn(
        { account: this.account, events: missing.length },
        'recovered decisions the log was missing (crash before the account append)',
      );
    }
    this.history.push(...derived);
    this.lastReconciliation = this.reconcile();
    if (this.lastReconciliation.forgotten.length > 0 || this.lastReconciliation.unknown.length > 0) {
      throw new StoreDataError(
        `${this.account}: orders out of sync: forgotten ${this.lastReconciliation.forgotten.join(', ') || 'none'}, unknown ${this.lastReconciliation.unknown.join(', ') || 'none'}`,
      );
    }
    logger.info(
      {
        account: this.account,
        candles: this.symbols.map((s) => s.symbol),
        watermark: isoOrNull(this.watermark),
        decisions: derived.length,
        controls: controls.length,
        orders: this.lastReconciliation,
      },
      'account recovered from the log',
    );
  }

  /**
   * Orders, by client order id: every OrderSubmitted is either terminal (filled in full,
   * cancelled, expired, rejected) or working in the kernel; never both, never neither. The paper
   * exchange fills inside the kernel, from the log, so a restart cannot lose a fill; a live venue
   * would query the exchange for the `forgotten` ones here instead of resubmitting.
   */
  reconcile(): Reconciliation {
    const submitted = new Map<string, number>();
    const filled = new Map<string, number>();
    const terminal = new Set<string>();
    for (const e of this.history) {
      const d = e.data as {
        clientOrderId?: string;
        quantity?: number;
        filledQuantity?: number;
        remainingQuantity?: number;
      };
      if (!d.clientOrderId) continue;
      if (e.type === 'OrderSubmitted') submitted.set(d.clientOrderId, d.quantity ?? 0);
      else if (TERMINAL_ORDER_TYPES.has(e.type)) terminal.add(d.clientOrderId);
      else if (e.type === 'OrderFilled') {
        filled.set(d.clientOrderId, (filled.get(d.clientOrderId) ?? 0) + (d.quantity ?? 0));
        if (d.remainingQuantity === 0) terminal.add(d.clientOrderId);
      }
    }
    const working = new Set(this.kernel.workingOrders().map((o) => o.clientOrderId));
    const forgotten: string[] = [];
    for (const id of submitted.keys()) if (!terminal.has(id) && !working.has(id)) forgotten.push(id);
    const unknown = [...working].filter((id) => !submitted.has(id));
    return { submitted: submitted.size, terminal: terminal.size, working: working.size, forgotten, unknown };
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
    const failedSymbols: string[] = [];
    let fetched = 0;

    // 1. control actions from the API / CLI, taken in the order they were recorded
    const batch: NewEvent[] = [];
    const decisions: NewEvent[] = [];
    for (const c of await this.newControls()) {
      const copy = this.controlCopy(c.type, c.data as Record<string, unknown>, c.id, this.controlTime());
      batch.push(copy);
      this.noteControl(copy);
      const out = this.kernel.handle(copy);
      batch.push(...out);
      decisions.push(...out);
      log.info(
        {
          type: c.type,
          actor: (c.data as { actor: string }).actor,
          reason: (c.data as { reason: string }).reason,
          causationId: c.id,
        },
        'control action taken',
      );
    }

    // 2. fetch the closed candles of every symbol
    const fresh = new Map<Sym, Candle[]>();
    for (const s of this.symbols) {
      try {
        const candles = await this.fetchClosed(s, now);
        fresh.set(s, candles);
        fetched += candles.length;
      } catch (error) {
        failedSymbols.push(s.symbol);
        log.error(
          { symbol: s.symbol, err: (error as Error).message },
          'data collection failed after retries',
        );
        await this.recordCollectionFailure(s.symbol, error, now);
      }
    }

    // 3. stale data: pause before the stale candles are even stored (crash-safe ordering)
    const staleBefore = now - config.maxDataAgeMs;
    let staleCount = 0;
    for (const candles of fresh.values())
      for (const c of candles) if (c.openTime + this.step < staleBefore) staleCount++;
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
        { stale: staleCount, maxDataAgeMs: config.maxDataAgeMs },
        'decision skipped: stale data (service pause until fresh data)',
      );
    }

    // 4. store the candles (market streams), then decide up to the watermark
    for (const [s, candles] of fresh) if (candles.length > 0) await this.appendMarket(s, candles);
    const startedAt = performance.now();
    const watermark = this.computeWatermark();
    let handled = 0;
    for (const candle of this.takeUpTo(watermark)) {
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
      const out = this.kernel.handle(candle);
      this.watermark = candle.data.closeTime;
      handled++;
      for (const e of out) this.noteDecision(e);
      if (out.length > 0) {
        batch.push(...out);
        decisions.push(...out);
      }
    }
    if (watermark > this.watermark) this.watermark = watermark;
    if (batch.length > 0) await this.appendAccount(batch);
    const decisionLatencyMs = performance.now() - startedAt;
    this.history.push(...decisions);
    for (const e of decisions) {
      const d = e.data as { symbol?: string; clientOrderId?: string; strategy?: string; outcome?: string };
      log.info(
        {
          decision: e.type,
          id: e.id,
          correlationId: e.metadata.correlationId,
          causationId: e.metadata.causationId,
          occurredAt: new Date(e.metadata.occurredAt).toISOString(),
          symbol: d.symbol,
          strategy: d.strategy,
          clientOrderId: d.clientOrderId,
          outcome: d.outcome,
        },
        'decision',
      );
    }
    const report: CycleReport = {
      at: now,
      candlesFetched: fetched,
      candlesHandled: handled,
      decisions,
      watermark: this.watermark,
      failedSymbols,
      staleCandles: staleCount,
      decisionLatencyMs,
    };
    log.debug(
      {
        fetched,
        handled,
        decisions: decisions.length,
        watermark: isoOrNull(this.watermark),
        latencyMs: Number(decisionLatencyMs.toFixed(2)),
      },
      'cycle done',
    );
    if (decisions.length > 0) await this.o.hooks?.onDecisions?.(decisions);
    await this.o.hooks?.onCycle?.(report);
    return report;
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
    if (e.metadata.causationId) this.consumedControls.add(e.metadata.causationId);
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

  private async newControls(): Promise<RecordedEvent[]> {
    const out: RecordedEvent[] = [];
    for await (const e of this.o.store.readStream(controlStreamOf(this.account))) {
      if (!CONTROL_TYPES.has(e.type) || this.consumedControls.has(e.id)) continue;
      if ((e.data as { account?: string }).account !== this.account) continue;
      out.push(e);
    }
    return out;
  }

  private async fetchClosed(s: Sym, now: number): Promise<Candle[]> {
    const { source, config } = this.o;
    const out: Candle[] = [];
    let since = Number.isFinite(s.lastOpen) ? s.lastOpen + this.step : this.from;
    for (let page = 0; page < 1000; page++) {
      const rows = await this.withAttempts(() =>
        source.fetchCandles(s.symbol, config.timeframe, since, source.maxPageSize),
      );
      const closed = dropUnclosedCandles(rows, config.timeframe, now).filter(
        (c) => c.openTime >= since && c.openTime % this.step === 0,
      );
      for (const c of closed) {
        if (out.length > 0 && c.openTime <= out[out.length - 1]!.openTime) continue;
        out.push(c);
      }
      if (closed.length < rows.length || rows.length < source.maxPageSize || closed.length === 0) break;
      since = closed[closed.length - 1]!.openTime + this.step;
    }
    return out;
  }

  private async withAttempts<T>(work: () => Promise<T>): Promise<T> {
    const attempts = this.o.config.fetchAttempts;
    for (let attempt = 1; ; attempt++) {
      try {
        return await work();
      } catch (error) {
        if (error instanceof ConfigError || attempt >= attempts) throw error;
        this.o.logger.warn({ attempt, err: (error as Error).message }, 'fetch failed; retrying');
        await new Promise((r) => setTimeout(r, this.o.retryDelayMs?.(attempt) ?? 2_000 * attempt));
      }
    }
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

  private async appendMarket(s: Sym, candles: Candle[]): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const fresh = candles.filter((c) => c.openTime > s.lastOpen);
      if (fresh.length === 0) return;
      const gaps: CandleGap[] = [];
      let prev = s.lastOpen;
      for (const c of fresh) {
        if (Number.isFinite(prev) && c.openTime > prev + this.step)
          gaps.push({
            from: prev + this.step,
            to: c.openTime - this.step,
            missing: (c.openTime - prev) / this.step - 1,
          });
        prev = c.openTime;
      }
      const events = candleStreamEvents(s.key, fresh, gaps, { mode: 'paper' });
      try {
        const result = await this.o.store.append(s.stream, events, s.revision);
        s.revision = result.nextExpectedRevision;
        s.lastOpen = fresh[fresh.length - 1]!.openTime;
        for (const e of events) if (e.type === 'CandleClosed') s.pending.push(e as CandleClosedEvent);
        return;
      } catch (error) {
        // another writer (a `data download`) extended the stream: pick up what it stored
        if (!(error instanceof WrongExpectedRevisionError) || attempt > 2) throw error;
        const stored = await collect(this.o.store.readStream(s.stream, { fromRevision: s.revision + 1 }));
        for (const e of stored) {
          s.revision = e.revision;
          if (e.type !== 'CandleClosed') continue;
          const c = e as unknown as CandleClosedEvent;
          s.lastOpen = c.data.openTime;
          if (c.data.openTime >= this.from) s.pending.push(c);
        }
      }
    }
  }

  private async appendAccount(events: NewEvent[]): Promise<void> {
    const result = await this.o.store.append(this.account, events, this.revision);
    this.revision = result.nextExpectedRevision;
  }

  /** The oldest of the symbols' newest stored close times (-inf until every symbol has data). */
  private computeWatermark(): number {
    let w = Number.POSITIVE_INFINITY;
    for (const s of this.symbols) {
      const lastPending = s.pending[s.pending.length - 1];
      const close = lastPending
        ? lastPending.data.closeTime
        : Number.isFinite(s.lastOpen)
          ? s.lastOpen + this.step
          : Number.NEGATIVE_INFINITY;
      w = Math.min(w, close);
    }
    return Math.max(w, this.watermark);
  }

  /** Removes and returns the pending candles closing at or before `time`, merged by close time. */
  private takeUpTo(time: number): CandleClosedEvent[] {
    const out: CandleClosedEvent[] = [];
    for (const s of this.symbols) {
      let n = 0;
      while (n < s.pending.length && s.pending[n]!.data.closeTime <= time) n++;
      out.push(...s.pending.splice(0, n));
    }
    const order = new Map(this.symbols.map((s, i) => [s.symbol, i]));
    out.sort(
      (a, b) => a.data.closeTime - b.data.closeTime || order.get(a.data.symbol)! - order.get(b.data.symbol)!,
    );
    return out;
  }
}

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

function isoOrNull(t: number): string | null {
  return Number.isFinite(t) ? new Date(t).toISOString() : null;
}
