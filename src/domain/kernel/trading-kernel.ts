/**
 * The trading kernel: one account, one writer, advancing only on event time.
 *
 * Market and control events go in, one at a time, in event-time order; the decision events they
 * cause come out. The paper exchange runs inside the same loop, so a backtest is just:
 *
 *   const kernel = new TradingKernel(defaultKernelConfig({ initialCash: 10_000 }), {
 *     accountId: 'bt-demo', mode: 'backtest', runId: 'demo-1', exchange: 'binance',
 *     timeframe: '1h', symbols: ['BTC/USDT', 'ETH/USDT'], strategies: [emaCross()],
 *   });
 *   const output: NewEvent[] = [];
 *   for (const event of candleEventsInTimeOrder) output.push(...kernel.handle(event));
 *   kernel.equityCurve();   // { time, equity } per candle close (typed arrays)
 *   kernel.closedTrades();  // symbol, entry/exit time and price, quantity, fees, pnl, exit reason
 *
 * The rest of the API: openPositions() (with marks, unrealised P&L and the stops), workingOrders(),
 * status() (clock, equity, cash, fees, realised P&L, peak, drawdown, pause and kill switch),
 * snapshot() and TradingKernel.restore(config, context, snapshot). Configuration:
 * defaultKernelConfig() (src/domain/kernel/config.ts), defaultRiskConfig() / riskNone(fraction)
 * (docs/risk-rules.md), DEFAULT_FILL_CONFIG (docs/fill-contract.md).
 *
 * handle() accepts CandleClosed (any number of symbols, interleaved in time order; a symbol may
 * start later than others), MarketRulesObserved, and the control events TradingPaused,
 * TradingResumed, KillSwitchEngaged and LiquidationRequested; anything else is ignored. It
 * returns the events to append to the account stream, in order (a shared empty array when
 * nothing was decided: a candle that decides nothing creates no objects and hashes no ids).
 *
 * One candle of symbol S is processed in this order (docs/fill-contract.md §8):
 *   1. S's working order trades against the candle (market orders at the open, §2)
 *   2. the position's stop / trailing stop / take-profit are checked against the candle (§4)
 *   3. an entry order whose time to live ran out expires
 *   4. indicators take the candle; the trailing stop's high-water mark takes its high
 *   5. equity is marked to the close; drawdown and loss limits may halt entries
 *   6. the time stop may order an exit (it fills at the next open, like a signal)
 *   7. strategies see the candle; each signal gets one risk decision; approved orders fill at
 *      S's next open
 *
 * Same input events → byte-identical output events. snapshot() / TradingKernel.restore() save
 * and resume the complete decision state: restoring and handling the rest of the log gives the
 * events an uninterrupted run gives. The equity curve and the closed-trade list are outputs, not
 * state: they cover what this instance handled (the log has every PositionClosed).
 */
import type { ControlActionData } from '../control/events.js';
import type { NewEvent } from '../events/envelope.js';
import { roundDownToStep, roundUpToStep } from '../execution/amounts.js';
import { DEFAULT_MARKET_RULES, type MarketGrid, marketGrid } from '../execution/market-rules.js';
import {
  type CandlePrices,
  type FillQuote,
  matchOrder,
  NO_TRIGGER,
  protectiveTrigger,
  STOP_TRIGGER,
} from '../execution/paper-exchange.js';
import { Atr } from '../indicators/atr.js';
import type { CandleClosedData, MarketRulesObservedData } from '../market/events.js';
import { clientOrderId, clientOrderIdPrefix } from '../orders/client-order-id.js';
import {
  type CancelReason,
  OrderCancelled,
  OrderExpired,
  OrderFilled,
  OrderRejected,
  OrderSubmitted,
  type ProtectiveKind,
  StopTriggered,
} from '../orders/events.js';
import {
  createOrder,
  type Order,
  type OrderReason,
  type OrderTerms,
  recordFill,
  transition,
} from '../orders/order.js';
import { EquityCurve } from '../portfolio/equity-curve.js';
import { type ExitReason, PositionClosed, PositionOpened } from '../portfolio/events.js';
import { Portfolio } from '../portfolio/portfolio.js';
import {
  averageEntryPrice,
  type ClosedTrade,
  closedTrade,
  openPnl,
  type Position,
} from '../portfolio/position.js';
import { decideEntry, type ProtectionPlan } from '../risk/entry-decision.js';
import { type EntryBlock, EquityGuard } from '../risk/equity-guard.js';
import { RiskDecisionMade, TradingHalted } from '../risk/events.js';
import { decideExit } from '../risk/exit-decision.js';
import { addTrade, emptyTradeStats, type TradeStats } from '../risk/kelly.js';
import { alignedCorrelation, ReturnsWindow } from '../risk/returns-window.js';
import { SignalEmitted, type SignalEmittedData } from '../strategies/events.js';
import type { Signal, StrategyDefinition } from '../strategies/strategy.js';
import { type KernelConfig, type KernelContext, kernelFingerprint, validateKernel } from './config.js';
import { Emitter } from './emitter.js';
import { KernelInputError, KernelSnapshotError } from './errors.js';
import { KERNEL_SNAPSHOT_FORMAT, type KernelSnapshot, readKernelSnapshot } from './snapshot.js';
import { type PendingControl, SymbolState, type WorkingOrder } from './symbol-state.js';

/** An open position as the outside sees it. */
export interface PositionView {
  readonly positionId: string;
  readonly symbol: string;
  readonly strategy: string;
  readonly quantity: number;
  readonly entryPrice: number;
  readonly entryTime: number;
  readonly mark: number;
  readonly unrealisedPnl: number;
  readonly fees: number;
  readonly stopPrice: number | null;
  readonly trailingStopPrice: number | null;
  readonly takeProfitPrice: number | null;
}

export interface KernelStatus {
  /** event time: the latest candle close handled */
  readonly clock: number;
  readonly equity: number;
  readonly cash: number;
  readonly fees: number;
  readonly realisedPnl: number;
  readonly peakEquity: number;
  readonly drawdown: number;
  readonly paused: boolean;
  readonly killSwitch: boolean;
}

const EXIT_REASON_OF: Partial<Record<OrderReason, ExitReason>> = {
  exit: 'exit',
  'stop-loss': 'stop-loss',
  'take-profit': 'take-profit',
  'trailing-stop': 'trailing-stop',
  'time-stop': 'time-stop',
  liquidation: 'liquidation',
};

export class TradingKernel {
  private readonly emitter: Emitter;
  private readonly orderIdPrefix: string;
  private readonly fingerprint: string;
  private readonly symbolStates: SymbolState[];
  private readonly bySymbol = new Map<string, SymbolState>();
  /**
   * Symbols holding a position, in the context's symbol order, for marking equity without
   * scanning every symbol. The order is fixed so that equity is always summed the same way:
   * floating-point sums depend on their order, and a restored kernel must mark to the same bit.
   */
  private readonly holdings: SymbolState[] = [];
  private readonly curve = new EquityCurve();
  private readonly trades: ClosedTrade[] = [];
  private portfolio: Portfolio;
  private guard: EquityGuard;
  private tradeStats: Record<string, TradeStats> = {};
  private clock = Number.NEGATIVE_INFINITY;
  private orderSequence = 0;
  private equityNow: number;
  private paused = false;
  private killSwitch = false;
  /**
   * The close the equity guard takes next (NaN: none), with the candle that made it: now, or,
   * when another symbol's candle for it is still to come, before anything later (markToClose).
   * Two fields, not an object: this is set on every candle.
   */
  private markTime = Number.NaN;
  private markCandleId = '';
  /** open time of the candle before this one of the symbol being handled; -Infinity for its first */
  private previousOpen = Number.NEGATIVE_INFINITY;
  /** base units the current candle can still fill (contract §6); set per candle */
  private capacity = 0;

  constructor(
    private readonly config: KernelConfig,
    private readonly context: KernelContext,
  ) {
    validateKernel(config, context);
    this.emitter = new Emitter(context.accountId, context.runId, context.mode);
    this.orderIdPrefix = clientOrderIdPrefix(context.accountId, context.runId);
    this.fingerprint = kernelFingerprint(config, context);
    this.portfolio = new Portfolio(config.initialCash);
    this.guard = new EquityGuard(config.risk.rules, config.initialCash);
    this.equityNow = config.initialCash;
    for (const s of context.strategies) this.tradeStats[s.name] = emptyTradeStats();
    const correlation = config.risk.rules.correlation;
    this.symbolStates = context.symbols.map(
      (symbol, index) =>
        new SymbolState(
          symbol,
          index,
          config.marketRules?.[symbol] ?? DEFAULT_MARKET_RULES,
          new Atr(config.risk.atrPeriod),
          correlation.enabled ? new ReturnsWindow(correlation.lookback) : null,
          context.strategies.map((strategy) => strategy.create(symbol)),
        ),
    );
    for (const s of this.symbolStates) this.bySymbol.set(s.symbol, s);
  }

  // ─── input ──────────────────────────────────────────────────────────────────────────────

  /** Handles one input event; returns the events it caused, in order. */
  handle(event: NewEvent): readonly NewEvent[] {
    switch (event.type) {
      case 'CandleClosed':
        this.onCandle(event.id, event.data as CandleClosedData);
        break;
      case 'MarketRulesObserved':
        this.onMarketRules(event.data as MarketRulesObservedData);
        break;
      case 'TradingPaused':
      case 'TradingResumed':
      case 'KillSwitchEngaged':
      case 'LiquidationRequested':
        this.onControl(event);
        break;
    }
    return this.emitter.take();
  }

  // ─── outputs ────────────────────────────────────────────────────────────────────────────

  /** Equity marked to the close, one point per candle close time handled by this instance. */
  equityCurve(): { readonly time: Float64Array; readonly equity: Float64Array } {
    return this.curve.view();
  }

  /** Trades closed since this instance was created or restored, in closing order. */
  closedTrades(): readonly ClosedTrade[] {
    return this.trades;
  }

  openPositions(): PositionView[] {
    const views: PositionView[] = [];
    for (const s of this.symbolStates) {
      const p = s.position;
      if (!p) continue;
      const trailing = p.trailingStop;
      views.push({
        positionId: p.id,
        symbol: p.symbol,
        strategy: p.strategy,
        quantity: p.quantity,
        entryPrice: averageEntryPrice(p),
        entryTime: p.openedAt,
        mark: s.lastClose,
        unrealisedPnl: openPnl(p, s.lastClose),
        fees: p.entryFees + p.exitFees,
        stopPrice: p.stopPrice,
        trailingStopPrice: trailing > 0 ? trailing : null,
        takeProfitPrice: p.takeProfitPrice,
      });
    }
    return views;
  }

  /** Copies of the orders working now (at most one per symbol). */
  workingOrders(): Order[] {
    return this.symbolStates.filter((s) => s.working).map((s) => ({ ...s.working!.order }));
  }

  status(): KernelStatus {
    return {
      clock: this.clock,
      equity: this.equityNow,
      cash: this.portfolio.cash,
      fees: this.portfolio.fees,
      realisedPnl: this.portfolio.realisedPnl,
      peakEquity: this.guard.peakEquity,
      drawdown: this.guard.drawdown,
      paused: this.paused,
      killSwitch: this.killSwitch,
    };
  }

  // ─── candles ────────────────────────────────────────────────────────────────────────────

  private onCandle(candleId: string, c: CandleClosedData): void {
    if (c.exchange !== this.context.exchange || c.timeframe !== this.context.timeframe) return;
    const s = this.bySymbol.get(c.symbol);
    if (s === undefined) return;
    if (c.openTime <= s.lastOpenTime) {
      throw new KernelInputError(
        `${c.symbol} candle opening ${iso(c.openTime)} is not after the previous one (${iso(s.lastOpenTime)})`,
        'candles of a symbol must arrive once each, in time order',
      );
    }
    if (c.closeTime < this.clock) {
      throw new KernelInputError(
        `${c.symbol} candle closing ${iso(c.closeTime)} arrived after event time ${iso(this.clock)}`,
        'merge the market streams by candle close time before handing them to the kernel',
      );
    }
    if (c.closeTime > this.markTime) this.markGuard();
    this.clock = c.closeTime;
    this.previousOpen = s.lastOpenTime;
    s.lastOpenTime = c.openTime;
    s.candles++;

    // The steps are separate methods that take objects, not numbers: V8 boxes a double passed
    // to (or returned from) a call it does not inline, and this path must not allocate.
    // 1-3: the exchange's part of the candle. The ATR is still the previous candle's here.
    // §6: a candle with no volume fills nothing, with or without a volume share
    const share = this.config.fills.maxVolumeShare;
    this.capacity = c.volume > 0 ? (share === null ? Number.POSITIVE_INFINITY : share * c.volume) : 0;
    const pending = s.pendingControls;
    while (pending.length > 0 && c.openTime >= pending[0]!.from)
      this.applyControl(s, pending.shift()!, c.openTime);
    if (s.working !== null) this.tradeWorkingOrder(s, c);
    if (s.position !== null) this.checkProtection(s, c, candleId);
    if (s.working !== null) this.expireEntry(s, c);
    // 4-5
    this.updateIndicators(s, c);
    this.markToClose(c, candleId);
    // 6: time stop.
    if (s.position !== null) this.checkTimeStop(s, c, candleId);
    // 7: strategies.
    const strategies = s.strategies;
    for (let i = 0; i < strategies.length; i++) {
      const signal = strategies[i]!.update(c);
      if (signal !== null) this.onSignal(s, i, signal, c, candleId);
    }
  }

  /** Step 4: indicators take the candle; the trailing stop's high-water mark takes its high. */
  private updateIndicators(s: SymbolState, c: CandleClosedData): void {
    s.atr.update(c.high, c.low, c.close);
    if (s.returns !== null) s.returns.push(c.openTime, c.close);
    s.lastClose = c.close;
    const p = s.position;
    if (p !== null && c.high > p.highWater) this.raiseHighWater(p, c.high, s.grid);
  }

  /** A new high since entry moves the trailing stop with it (contract §4: rounded up). */
  private raiseHighWater(p: Position, high: number, grid: MarketGrid): void {
    p.highWater = high;
    const distance = p.protection.trailingDistance;
    if (distance !== null)
      p.trailingStop = roundUpToStep(high - distance, grid.priceStep, grid.priceDecimals);
  }

  /** Step 5: equity marked to the close; drawdown and loss limits may halt entries. */
  private markToClose(c: CandleClosedData, candleId: string): void {
    let equity = this.portfolio.cash;
    const holdings = this.holdings;
    for (let i = 0; i < holdings.length; i++) {
      const h = holdings[i]!;
      equity += h.position!.quantity * h.lastClose;
    }
    this.equityNow = equity;
    this.curve.record(c.closeTime, equity);
    // The guard sees the account at this close only once every symbol's candle for it is in:
    // halfway through, some positions would be marked at this close and some at the one
    // before, an equity the account never had (a fall in one and a rise in another would
    // halt it, or raise a peak that never was). A close still waiting for a candle is taken
    // when anything later arrives, so every close is marked once, at most one candle late.
    this.markTime = c.closeTime;
    this.markCandleId = candleId;
    if (this.closeComplete(c)) this.markGuard();
  }

  /** The equity guard takes the close in markTime with the equity as it stands: halts come out of it. */
  private markGuard(): void {
    const time = this.markTime;
    this.markTime = Number.NaN;
    const breaches = this.guard.mark(time, this.equityNow);
    if (breaches === null) return;
    for (const b of breaches) {
      this.emitter.emit(
        TradingHalted,
        `${b.rule}|${time}`,
        {
          account: this.context.accountId,
          rule: b.rule,
          reason: b.reason,
          equity: b.equity,
          referenceEquity: b.referenceEquity,
          loss: b.loss,
          limit: b.limit,
          until: b.until,
        },
        time,
        this.markCandleId,
        this.markCandleId,
      );
    }
  }

  /**
   * Whether no other symbol's candle for this close is still to come. A symbol is awaited when
   * its last candle closed at or after this symbol's previous close but before this close: it
   * kept pace so far. One that fell behind earlier (a gap of its own) is not; symbols that have
   * not started hold nothing.
   */
  private closeComplete(c: CandleClosedData): boolean {
    // open times stand for close times (one timeframe): comparisons only, no arithmetic on
    // doubles, which would allocate on every candle wherever V8 does not optimise this
    const states = this.symbolStates;
    if (states.length === 1) return true; // the symbol itself: nothing else to wait for
    for (let i = 0; i < states.length; i++) {
      const last = states[i]!.lastOpenTime; // -Infinity before a symbol's first candle
      if (last < c.openTime && last >= this.previousOpen && last > Number.NEGATIVE_INFINITY) return false;
    }
    return true;
  }

  private onMarketRules(data: MarketRulesObservedData): void {
    if (data.exchange !== this.context.exchange) return;
    const s = this.bySymbol.get(data.symbol);
    if (s === undefined) return;
    const { amountStep, priceStep, minAmount, minNotional } = data;
    s.grid = marketGrid({ amountStep, priceStep, minAmount, minNotional });
  }

  // ─── the exchange's part ────────────────────────────────────────────────────────────────

  /** Offers the working order to this candle, within the volume capacity left in it. */
  private tradeWorkingOrder(s: SymbolState, c: CandlePrices): void {
    const w = s.working!;
    const order = w.order;
    order.candlesOffered++;
    const quote = matchOrder(order, c, {
      config: this.config.fills,
      grid: s.grid,
      capacity: this.capacity,
      freeCash: order.side === 'buy' ? this.freeCash(s) : Number.POSITIVE_INFINITY,
      atr: s.atr.value,
    });
    if (quote === null) return;
    if (quote.quantity <= 0) {
      this.endWorkingOrder(s, 'insufficient-funds', c.openTime, w.eventId);
      return;
    }
    this.capacity -= quote.quantity;
    this.applyFill(s, w, quote, c);
    if (quote.cashLimited && s.working === w)
      this.endWorkingOrder(s, 'insufficient-funds', c.openTime, w.eventId);
  }

  private applyFill(s: SymbolState, w: WorkingOrder, quote: FillQuote, c: CandlePrices): void {
    const order = w.order;
    const time = c.openTime;
    recordFill(order, quote.quantity, s.grid);
    let position = s.position;
    const opening = position === null;
    if (order.side === 'buy') {
      if (position === null) position = this.openPosition(s, w, time, quote.price);
      this.portfolio.buy(position, quote.quantity, quote.price, quote.fee);
      this.anchorProtection(s, position);
    } else {
      this.portfolio.sell(position!, quote.quantity, quote.price, quote.fee);
    }
    const fillId = this.emitter.emit(
      OrderFilled,
      `${order.clientOrderId}|${order.fillCount}`,
      {
        account: this.context.accountId,
        clientOrderId: order.clientOrderId,
        positionId: w.positionId,
        symbol: order.symbol,
        side: order.side,
        reason: order.reason,
        fillNumber: order.fillCount,
        price: quote.price,
        quantity: quote.quantity,
        notional: quote.price * quote.quantity,
        fee: quote.fee,
        feeCurrency: this.config.quoteCurrency,
        referencePrice: quote.referencePrice,
        slippageBps: quote.slippageBps,
        slippageQuote: Math.abs(quote.price - quote.referencePrice) * quote.quantity,
        liquidity: quote.liquidity,
        filledQuantity: order.filledQuantity,
        remainingQuantity: order.remainingQuantity,
        candleOpenTime: c.openTime,
      },
      time,
      w.eventId,
      w.correlationId,
    );
    if (opening) {
      const p = position!;
      this.emitter.emit(
        PositionOpened,
        p.id,
        {
          account: this.context.accountId,
          positionId: p.id,
          symbol: p.symbol,
          side: 'long',
          strategy: p.strategy,
          strategyVersion: p.strategyVersion,
          quantity: quote.quantity,
          entryPrice: quote.price,
          entryFee: quote.fee,
          stopPrice: p.stopPrice,
          takeProfitPrice: p.takeProfitPrice,
          trailingDistance: p.protection.trailingDistance,
          timeStopCandles: p.protection.timeStopCandles,
        },
        time,
        fillId,
        w.correlationId,
      );
    }
    if (order.status === 'filled') {
      s.working = null;
      if (order.side === 'sell')
        this.closePosition(s, EXIT_REASON_OF[order.reason]!, time, fillId, w.correlationId);
    }
  }

  private openPosition(s: SymbolState, w: WorkingOrder, time: number, price: number): Position {
    const strategy = this.context.strategies[w.strategyIndex]!;
    const position: Position = {
      id: w.positionId,
      symbol: s.symbol,
      strategy: strategy.name,
      strategyVersion: strategy.version,
      quantity: 0,
      boughtQuantity: 0,
      boughtCost: 0,
      soldQuantity: 0,
      soldProceeds: 0,
      entryFees: 0,
      exitFees: 0,
      openedAt: time,
      openedCandle: s.candles,
      protection: w.protection!,
      stopPrice: null,
      takeProfitPrice: null,
      highWater: 0,
      trailingStop: 0,
      correlationId: w.correlationId,
    };
    this.raiseHighWater(position, price, s.grid);
    s.position = position;
    const after = this.holdings.findIndex((h) => h.index > s.index);
    this.holdings.splice(after < 0 ? this.holdings.length : after, 0, s);
    return position;
  }

  /**
   * Stop and take-profit sit at the approved distances from the average entry price, so the
   * risk taken is the risk approved whatever the fill price. Prices are rounded to the price
   * step toward the entry: neither the risk nor the target grows by rounding.
   */
  private anchorProtection(s: SymbolState, p: Position): void {
    const entry = averageEntryPrice(p);
    const { stopDistance, takeProfitR } = p.protection;
    const { priceStep, priceDecimals } = s.grid;
    if (stopDistance !== null) {
      let stop = roundUpToStep(entry - stopDistance, priceStep, priceDecimals);
      // The entry decision refuses distances under one price step, but a fill price off the
      // grid can still round the stop up to the entry: then the step below, never no stop.
      if (stop >= entry) stop = roundDownToStep(entry - priceStep, priceStep, priceDecimals);
      p.stopPrice = stop > 0 ? stop : null;
      if (takeProfitR !== null)
        p.takeProfitPrice = roundDownToStep(entry + takeProfitR * stopDistance, priceStep, priceDecimals);
    }
  }

  private closePosition(
    s: SymbolState,
    reason: ExitReason,
    time: number,
    causationId: string,
    correlationId: string,
  ): void {
    const p = s.position!;
    const trade = closedTrade(p, time, reason);
    this.portfolio.close(trade.pnl);
    addTrade(this.tradeStats[p.strategy]!, trade.pnlPct);
    this.trades.push(trade);
    this.emitter.emit(
      PositionClosed,
      p.id,
      {
        account: this.context.accountId,
        positionId: p.id,
        symbol: p.symbol,
        side: 'long',
        strategy: p.strategy,
        strategyVersion: p.strategyVersion,
        quantity: trade.quantity,
        entryPrice: trade.entryPrice,
        exitPrice: trade.exitPrice,
        entryTime: trade.entryTime,
        exitTime: trade.exitTime,
        fees: trade.fees,
        realisedPnl: trade.pnl,
        pnlPct: trade.pnlPct,
        rMultiple: trade.rMultiple,
        exitReason: reason,
      },
      time,
      causationId,
      correlationId,
    );
    s.position = null;
    this.holdings.splice(this.holdings.indexOf(s), 1);
  }

  /** Stop-loss, trailing stop and take-profit against this candle (contract §4). */
  private checkProtection(s: SymbolState, c: CandlePrices, candleId: string): void {
    const p = s.position!;
    const w = s.working;
    // A market or triggered stop exit is already on its way out; a resting take-profit rest
    // still needs the stop behind it.
    if (w !== null && w.order.side === 'sell' && w.order.type !== 'limit') return;
    const trailing = p.trailingStop;
    const stop = Math.max(p.stopPrice ?? 0, trailing);
    const takeProfit = w !== null && w.order.type === 'limit' ? 0 : (p.takeProfitPrice ?? 0);
    const trigger = protectiveTrigger(stop, takeProfit, c);
    if (trigger === NO_TRIGGER) return;

    const kind: ProtectiveKind =
      trigger === STOP_TRIGGER
        ? trailing > (p.stopPrice ?? 0)
          ? 'trailing-stop'
          : 'stop-loss'
        : 'take-profit';
    const level = trigger === STOP_TRIGGER ? stop : takeProfit;
    const gap = trigger === STOP_TRIGGER ? c.open <= stop : c.open >= takeProfit;
    const triggerId = this.emitStopTriggered(s, kind, level, gap, c, c.openTime, candleId);
    if (w !== null) this.endWorkingOrder(s, 'protective-exit', c.openTime, triggerId);
    const terms =
      trigger === STOP_TRIGGER
        ? { type: 'stop' as const, limitPrice: null, stopPrice: stop }
        : { type: 'limit' as const, limitPrice: takeProfit, stopPrice: null };
    this.submit(
      s,
      {
        ...terms,
        side: 'sell',
        reason: kind,
        quantity: p.quantity,
        referencePrice: level,
      },
      p.id,
      -1,
      null,
      c.openTime,
      triggerId,
      candleId,
    );
    // Attached orders fire inside this candle: trade it now.
    this.tradeWorkingOrder(s, c);
    // The stop has fired: whatever this candle could not fill (no volume left) is a triggered
    // stop's rest, sold at the next candle's open (§6), not a stop waiting to be touched again.
    const rest = s.working;
    if (rest !== null && rest.order.type === 'stop') rest.order.triggered = true;
  }

  private checkTimeStop(s: SymbolState, c: CandleClosedData, candleId: string): void {
    const p = s.position!;
    const limit = p.protection.timeStopCandles;
    if (limit === null || this.killSwitch) return;
    const held = s.candles - p.openedCandle + 1;
    if (held < limit) return;
    const w = s.working;
    if (w !== null && w.order.side === 'sell' && w.order.type !== 'limit') return;
    const triggerId = this.emitStopTriggered(s, 'time-stop', null, false, c, c.closeTime, candleId);
    if (w !== null) this.endWorkingOrder(s, 'protective-exit', c.closeTime, triggerId);
    this.submit(
      s,
      {
        type: 'market',
        limitPrice: null,
        stopPrice: null,
        side: 'sell',
        reason: 'time-stop',
        quantity: p.quantity,
        referencePrice: c.close,
      },
      p.id,
      -1,
      null,
      c.closeTime,
      triggerId,
      candleId,
    );
  }

  private emitStopTriggered(
    s: SymbolState,
    kind: ProtectiveKind,
    level: number | null,
    gap: boolean,
    c: CandlePrices,
    time: number,
    candleId: string,
  ): string {
    const p = s.position!;
    const trailing = p.trailingStop;
    return this.emitter.emit(
      StopTriggered,
      `${p.id}|${kind}|${c.openTime}`,
      {
        account: this.context.accountId,
        positionId: p.id,
        symbol: s.symbol,
        kind,
        triggerPrice: level,
        gap,
        candleOpenTime: c.openTime,
        open: c.open,
        high: c.high,
        low: c.low,
        close: c.close,
        stopPrice: p.stopPrice,
        takeProfitPrice: p.takeProfitPrice,
        trailingStopPrice: trailing > 0 ? trailing : null,
        highWater: p.highWater,
        heldCandles: s.candles - p.openedCandle + 1,
      },
      time,
      candleId,
      candleId,
    );
  }

  /** An entry order not completed within its time to live lapses (the filled part stays). */
  private expireEntry(s: SymbolState, c: CandleClosedData): void {
    const time = c.closeTime;
    const w = s.working!;
    const order = w.order;
    if (order.reason !== 'entry' || order.candlesOffered < this.config.entryOrderTtlCandles) return;
    const remaining = order.remainingQuantity;
    transition(order, 'expired');
    s.working = null;
    this.emitter.emit(
      OrderExpired,
      order.clientOrderId,
      {
        account: this.context.accountId,
        clientOrderId: order.clientOrderId,
        symbol: order.symbol,
        filledQuantity: order.filledQuantity,
        expiredQuantity: remaining,
        candlesOffered: order.candlesOffered,
      },
      time,
      w.eventId,
      w.correlationId,
    );
  }

  /**
   * Ends the working order without filling the rest: rejected when nothing filled and the
   * exchange refused it (insufficient funds), cancelled otherwise.
   */
  private endWorkingOrder(s: SymbolState, reason: CancelReason, time: number, causationId: string): void {
    const w = s.working!;
    const order = w.order;
    const remaining = order.remainingQuantity;
    s.working = null;
    if (reason === 'insufficient-funds' && order.status === 'submitted') {
      transition(order, 'rejected');
      this.emitter.emit(
        OrderRejected,
        order.clientOrderId,
        {
          account: this.context.accountId,
          clientOrderId: order.clientOrderId,
          symbol: order.symbol,
          reason: 'insufficient-funds',
          detail: `free cash ${this.freeCash(s)} ${this.config.quoteCurrency} does not pay for one amount step`,
          quantity: order.quantity,
        },
        time,
        causationId,
        w.correlationId,
      );
      return;
    }
    transition(order, 'cancelled');
    this.emitter.emit(
      OrderCancelled,
      order.clientOrderId,
      {
        account: this.context.accountId,
        clientOrderId: order.clientOrderId,
        symbol: order.symbol,
        reason,
        filledQuantity: order.filledQuantity,
        cancelledQuantity: remaining,
      },
      time,
      causationId,
      w.correlationId,
    );
  }

  private submit(
    s: SymbolState,
    terms: Omit<OrderTerms, 'clientOrderId' | 'symbol'>,
    positionId: string | null,
    strategyIndex: number,
    protection: ProtectionPlan | null,
    time: number,
    causationId: string,
    correlationId: string,
  ): void {
    const id = clientOrderId(this.orderIdPrefix, ++this.orderSequence);
    const order = createOrder({ ...terms, clientOrderId: id, symbol: s.symbol });
    const position = positionId ?? id;
    const eventId = this.emitter.emit(
      OrderSubmitted,
      id,
      {
        account: this.context.accountId,
        clientOrderId: id,
        symbol: s.symbol,
        side: order.side,
        type: order.type,
        reason: order.reason,
        quantity: order.quantity,
        limitPrice: order.limitPrice,
        stopPrice: order.stopPrice,
        referencePrice: order.referencePrice,
        positionId: position,
      },
      time,
      causationId,
      correlationId,
    );
    transition(order, 'submitted');
    s.working = { order, eventId, correlationId, positionId: position, strategyIndex, protection };
  }

  // ─── strategies and risk ────────────────────────────────────────────────────────────────

  private onSignal(
    s: SymbolState,
    index: number,
    signal: Signal,
    c: CandleClosedData,
    candleId: string,
  ): void {
    const strategy = this.context.strategies[index]!;
    const time = c.closeTime;
    const signalData: SignalEmittedData = {
      account: this.context.accountId,
      strategy: strategy.name,
      strategyVersion: strategy.version,
      params: { ...strategy.params },
      symbol: s.symbol,
      timeframe: this.context.timeframe,
      direction: signal.direction,
      confidence: signal.confidence,
      price: c.close,
      candleOpenTime: c.openTime,
      indicators: { ...signal.indicators },
    };
    if (signal.expectedReturn !== undefined) signalData.expectedReturn = signal.expectedReturn;
    if (signal.horizonMs !== undefined) signalData.horizonMs = signal.horizonMs;
    const signalId = this.emitter.emit(
      SignalEmitted,
      `${strategy.name}|${s.symbol}|${c.openTime}`,
      signalData,
      time,
      candleId,
      candleId,
    );
    if (signal.direction === 'long') this.decideLong(s, index, strategy, c, signalId, candleId);
    else this.decideExitSignal(s, strategy, c, signalId, candleId);
  }

  private decideLong(
    s: SymbolState,
    index: number,
    strategy: StrategyDefinition,
    c: CandleClosedData,
    signalId: string,
    candleId: string,
  ): void {
    const time = c.closeTime;
    const decision = decideEntry(this.config.risk, {
      price: c.close,
      atr: s.atr.value,
      equity: this.equityNow,
      freeCash: this.freeCash(null),
      feeRate: this.config.fills.feeRate,
      openPositions: this.openPositionCount(),
      symbolBusy: s.position !== null || s.working !== null,
      assetExposure: this.assetExposure(s),
      heat: this.heat(),
      drawdown: this.guard.drawdown,
      block: this.entryBlock(time),
      correlation: this.highestCorrelation(s),
      tradeStats: this.tradeStats[strategy.name]!,
      grid: s.grid,
    });
    const decisionId = this.emitter.emit(
      RiskDecisionMade,
      signalId,
      {
        account: this.context.accountId,
        symbol: s.symbol,
        strategy: strategy.name,
        strategyVersion: strategy.version,
        direction: 'long',
        outcome: decision.outcome,
        rule: decision.rule,
        reason: decision.reason,
        riskVersion: this.config.risk.version,
        requestedQuantity: decision.requestedQuantity,
        finalQuantity: decision.finalQuantity,
        price: c.close,
        stopPrice: decision.stopPrice,
        takeProfitPrice: decision.takeProfitPrice,
        numbers: decision.numbers,
        checks: decision.checks,
      },
      time,
      signalId,
      candleId,
    );
    if (decision.outcome === 'rejected') return;
    this.submit(
      s,
      {
        type: 'market',
        limitPrice: null,
        stopPrice: null,
        side: 'buy',
        reason: 'entry',
        quantity: decision.finalQuantity,
        referencePrice: c.close,
      },
      null,
      index,
      decision.protection,
      time,
      decisionId,
      candleId,
    );
  }

  private decideExitSignal(
    s: SymbolState,
    strategy: StrategyDefinition,
    c: CandleClosedData,
    signalId: string,
    candleId: string,
  ): void {
    const time = c.closeTime;
    const w = s.working;
    const p = s.position;
    const ownsPosition = p !== null && p.strategy === strategy.name;
    const workingEntry =
      w !== null && w.order.reason === 'entry' && this.context.strategies[w.strategyIndex] === strategy;
    const decision = decideExit({
      positionQuantity: ownsPosition ? p.quantity : 0,
      workingEntry,
      exitWorking: ownsPosition && w !== null && w.order.side === 'sell' && w.order.type !== 'limit',
      killSwitch: this.killSwitch,
    });
    const decisionId = this.emitter.emit(
      RiskDecisionMade,
      signalId,
      {
        account: this.context.accountId,
        symbol: s.symbol,
        strategy: strategy.name,
        strategyVersion: strategy.version,
        direction: 'exit',
        outcome: decision.outcome,
        rule: decision.rule,
        reason: decision.reason,
        riskVersion: this.config.risk.version,
        requestedQuantity: ownsPosition ? p.quantity : 0,
        finalQuantity: decision.quantity,
        price: c.close,
        stopPrice: null,
        takeProfitPrice: null,
        numbers: { positionQuantity: ownsPosition ? p.quantity : 0, price: c.close, equity: this.equityNow },
        checks: [
          {
            rule: decision.rule,
            outcome: decision.outcome === 'rejected' ? 'reject' : 'pass',
            value: null,
            limit: null,
            maxQuantity: null,
          },
        ],
      },
      time,
      signalId,
      candleId,
    );
    if (decision.outcome === 'rejected') return;
    // The rest of an entry, or a resting take-profit, gives way to the exit.
    if (w !== null) this.endWorkingOrder(s, 'exit-signal', time, decisionId);
    if (decision.quantity > 0) {
      this.submit(
        s,
        {
          type: 'market',
          limitPrice: null,
          stopPrice: null,
          side: 'sell',
          reason: 'exit',
          quantity: decision.quantity,
          referencePrice: c.close,
        },
        p!.id,
        -1,
        null,
        time,
        decisionId,
        candleId,
      );
    }
  }

  private entryBlock(time: number): EntryBlock | null {
    if (this.killSwitch)
      return { rule: 'kill-switch', reason: 'kill switch engaged: no new orders', value: null, limit: null };
    if (this.paused)
      return { rule: 'paused', reason: 'trading paused by the owner', value: null, limit: null };
    return this.guard.entryBlock(time);
  }

  /** Cash not promised to working buy orders (other than `except`'s). */
  private freeCash(except: SymbolState | null): number {
    let reserved = 0;
    const feeRate = this.config.fills.feeRate;
    for (const s of this.symbolStates) {
      const w = s.working;
      if (w === null || s === except || w.order.side !== 'buy') continue;
      reserved += w.order.remainingQuantity * w.order.referencePrice * (1 + feeRate);
    }
    return this.portfolio.cash - reserved;
  }

  private openPositionCount(): number {
    let count = 0;
    for (const s of this.symbolStates) {
      if (s.position !== null || (s.working !== null && s.working.order.reason === 'entry')) count++;
    }
    return count;
  }

  private assetExposure(s: SymbolState): number {
    let exposure = s.position === null ? 0 : s.position.quantity * s.lastClose;
    const w = s.working;
    if (w !== null && w.order.side === 'buy') exposure += w.order.remainingQuantity * w.order.referencePrice;
    return exposure;
  }

  /**
   * Open risk to the stops: for each position, quantity x (mark - effective stop), the whole
   * mark without a stop; for each working entry, its planned risk.
   */
  private heat(): number {
    let heat = 0;
    for (const s of this.symbolStates) {
      const p = s.position;
      if (p !== null) {
        const stop = Math.max(p.stopPrice ?? 0, p.trailingStop);
        heat += p.quantity * Math.max(0, s.lastClose - stop);
      }
      const w = s.working;
      if (w !== null && w.order.reason === 'entry') {
        const distance = w.protection?.stopDistance ?? w.order.referencePrice;
        heat += w.order.remainingQuantity * distance;
      }
    }
    return heat;
  }

  private highestCorrelation(candidate: SymbolState): { value: number; symbol: string } | null {
    const rule = this.config.risk.rules.correlation;
    if (!rule.enabled || candidate.returns === null) return null;
    let best: { value: number; symbol: string } | null = null;
    for (const s of this.symbolStates) {
      if (s === candidate || s.returns === null) continue;
      if (s.position === null && !(s.working !== null && s.working.order.reason === 'entry')) continue;
      const value = alignedCorrelation(candidate.returns, s.returns, rule.minSamples);
      if (value !== null && (best === null || value > best.value)) best = { value, symbol: s.symbol };
    }
    return best;
  }

  // ─── control ────────────────────────────────────────────────────────────────────────────

  private onControl(event: NewEvent): void {
    const data = event.data as ControlActionData;
    if (data.account !== this.context.accountId) return;
    const time = Math.max(this.clock, event.metadata.occurredAt);
    // every candle of a close before the control's time is in (controls come after the candles
    // closing at or before them): the guard takes that close first
    if (event.metadata.occurredAt >= this.markTime) this.markGuard();
    switch (event.type) {
      case 'TradingPaused':
        this.paused = true;
        return;
      case 'TradingResumed':
        this.paused = false;
        this.killSwitch = false;
        this.guard.resume();
        // what was requested before stays done: a liquidation still sells at its next open
        return;
      case 'KillSwitchEngaged':
      case 'LiquidationRequested': {
        // New decisions stop at once; orders change per symbol from its first candle opening at
        // or after the request. A request after the last close handled falls inside the next
        // candle: that candle's open traded before it (an entry filled then really filled), so
        // the control waits for the open after it ("its next open", contract).
        if (event.type === 'KillSwitchEngaged') this.killSwitch = true;
        else this.paused = true;
        const control = { type: event.type, from: event.metadata.occurredAt, eventId: event.id };
        for (const s of this.symbolStates) {
          if (control.from > this.clock && s.candles > 0) s.pendingControls.push(control);
          else this.applyControl(s, control, time);
        }
        return;
      }
    }
  }

  /** This symbol's part of a kill switch (cancel a working entry) or a liquidation (sell). */
  private applyControl(s: SymbolState, control: PendingControl, time: number): void {
    const w = s.working;
    if (control.type === 'KillSwitchEngaged') {
      if (w !== null && w.order.reason === 'entry')
        this.endWorkingOrder(s, 'kill-switch', time, control.eventId);
      return;
    }
    // Liquidation: close the position at this symbol's next open; nothing new until resumed.
    if (w !== null && (w.order.side === 'buy' || w.order.type === 'limit'))
      this.endWorkingOrder(s, 'liquidation', time, control.eventId);
    const p = s.position;
    if (p === null || s.working !== null) return;
    this.submit(
      s,
      {
        type: 'market',
        limitPrice: null,
        stopPrice: null,
        side: 'sell',
        reason: 'liquidation',
        quantity: p.quantity,
        referencePrice: s.lastClose,
      },
      p.id,
      -1,
      null,
      time,
      control.eventId,
      control.eventId,
    );
  }

  // ─── snapshot ───────────────────────────────────────────────────────────────────────────

  /** The complete decision state as plain JSON-safe data. */
  snapshot(): KernelSnapshot {
    return {
      format: KERNEL_SNAPSHOT_FORMAT,
      fingerprint: this.fingerprint,
      clock: Number.isFinite(this.clock) ? this.clock : null,
      orderSequence: this.orderSequence,
      paused: this.paused,
      killSwitch: this.killSwitch,
      pendingMark: Number.isNaN(this.markTime) ? null : { time: this.markTime, candleId: this.markCandleId },
      equity: this.equityNow,
      portfolio: this.portfolio.snapshot(),
      guard: this.guard.snapshot(),
      tradeStats: structuredClone(this.tradeStats),
      symbols: this.symbolStates.map((s) => ({
        symbol: s.symbol,
        rules: {
          amountStep: s.grid.amountStep,
          priceStep: s.grid.priceStep,
          minAmount: s.grid.minAmount,
          minNotional: s.grid.minNotional,
        },
        lastOpenTime: Number.isFinite(s.lastOpenTime) ? s.lastOpenTime : null,
        lastClose: Number.isNaN(s.lastClose) ? null : s.lastClose,
        candles: s.candles,
        atr: s.atr.snapshot(),
        returns: s.returns?.snapshot() ?? null,
        strategies: s.strategies.map((x) => x.snapshot()),
        position: s.position === null ? null : structuredClone(s.position),
        working:
          s.working === null
            ? null
            : {
                order: { ...s.working.order },
                eventId: s.working.eventId,
                correlationId: s.working.correlationId,
                positionId: s.working.positionId,
                strategyIndex: s.working.strategyIndex,
                protection: s.working.protection === null ? null : { ...s.working.protection },
              },
        pendingControls: s.pendingControls.map((control) => ({ ...control })),
      })),
    };
  }

  /** Resumes from snapshot(); refuses a snapshot taken under another configuration. */
  static restore(config: KernelConfig, context: KernelContext, snapshot: unknown): TradingKernel {
    const kernel = new TradingKernel(config, context);
    const saved = readKernelSnapshot(snapshot);
    if (saved.fingerprint !== kernel.fingerprint) {
      throw new KernelSnapshotError('the snapshot was taken under a different kernel configuration');
    }
    if (saved.symbols.length !== kernel.symbolStates.length) {
      throw new KernelSnapshotError(
        `the snapshot has ${saved.symbols.length} symbols, the kernel ${kernel.symbolStates.length}`,
      );
    }
    kernel.clock = saved.clock ?? Number.NEGATIVE_INFINITY;
    kernel.orderSequence = saved.orderSequence;
    kernel.paused = saved.paused;
    kernel.killSwitch = saved.killSwitch;
    kernel.markTime = saved.pendingMark?.time ?? Number.NaN;
    kernel.markCandleId = saved.pendingMark?.candleId ?? '';
    kernel.equityNow = saved.equity;
    kernel.portfolio = Portfolio.restore(saved.portfolio);
    kernel.guard = EquityGuard.restore(config.risk.rules, saved.guard);
    kernel.tradeStats = structuredClone(saved.tradeStats);
    kernel.symbolStates.forEach((s, i) => {
      const x = saved.symbols[i]!;
      if (x.symbol !== s.symbol)
        throw new KernelSnapshotError(`symbol ${i} is ${x.symbol}, expected ${s.symbol}`);
      const restored = new SymbolState(
        s.symbol,
        i,
        x.rules,
        Atr.restore(x.atr),
        x.returns === null ? null : ReturnsWindow.restore(x.returns),
        context.strategies.map((strategy, j) => strategy.restore(x.strategies[j], s.symbol)),
      );
      restored.lastOpenTime = x.lastOpenTime ?? Number.NEGATIVE_INFINITY;
      restored.lastClose = x.lastClose ?? Number.NaN;
      restored.candles = x.candles;
      restored.position = x.position === null ? null : structuredClone(x.position);
      restored.working =
        x.working === null
          ? null
          : {
              ...x.working,
              order: { ...x.working.order },
              protection: x.working.protection === null ? null : { ...x.working.protection },
            };
      restored.pendingControls = x.pendingControls.map((control) => ({ ...control }));
      kernel.symbolStates[i] = restored;
      kernel.bySymbol.set(s.symbol, restored);
      if (restored.position !== null) kernel.holdings.push(restored);
    });
    return kernel;
  }
}

/** The trailing stop's level now, 0 when the position has none. */

function iso(time: number): string {
  return Number.isFinite(time) ? new Date(time).toISOString() : String(time);
}
