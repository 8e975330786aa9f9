import { ConfigError } from '../../domain/errors.js';
import type { RecordedEvent } from '../../domain/events/envelope.js';
import type { CandleClosedData } from '../../domain/market/events.js';
import { marketStream } from '../../domain/market/events.js';
import { significant } from '../../domain/numbers.js';
import type { OrderFilledData, OrderSubmittedData } from '../../domain/orders/events.js';
import type { PositionClosedData, PositionOpenedData } from '../../domain/portfolio/events.js';
import type { EventStore } from '../../domain/ports/event-store.js';
import type { RiskDecisionMadeData } from '../../domain/risk/events.js';
import type { RunStartedData } from '../../domain/runs/events.js';
import type { SignalEmittedData } from '../../domain/strategies/events.js';

/**
 * "Why did it do that?" answered from the log alone: for an order (its client order id) or a
 * trade (its position id, the entry order's id), the chain of events that led to it, following
 * causation ids back from the order to the risk decision, the signal and the candle, then
 * forward to the fills and, for a trade, how the position ended.
 */
export interface Explanation {
  kind: 'order' | 'trade';
  id: string;
  account: string;
  /** candle → signal → risk decision → order → fills, for the order or the trade's entry */
  entry: RecordedEvent[];
  /** for a trade: what closed it (the stop or signal, its decision, the exit order and fills) */
  exit: RecordedEvent[];
  position: { opened: RecordedEvent | null; closed: RecordedEvent | null };
}

export async function explain(store: EventStore, id: string, account?: string): Promise<Explanation> {
  const found = await findAccount(store, id, account);
  const events: RecordedEvent[] = [];
  for await (const e of store.readStream(found)) events.push(e);
  const byId = new Map(events.map((e) => [e.id, e]));
  const orders = events.filter((e) => e.type === 'OrderSubmitted') as RecordedEvent<
    string,
    OrderSubmittedData
  >[];
  const asOrder = orders.find((o) => o.data.clientOrderId === id);
  const opened =
    events.find((e) => e.type === 'PositionOpened' && (e.data as PositionOpenedData).positionId === id) ??
    null;
  const kind = opened ? 'trade' : 'order';
  if (!asOrder && !opened) {
    throw new ConfigError(
      `no order or trade ${id} in ${found}`,
      'use a client order id or a position id from `tradekernel store tail --stream <account>`',
    );
  }
  const runStarted = events.find((e) => e.type === 'RunStarted')?.data as RunStartedData | undefined;
  const chainFor = async (order: RecordedEvent<string, OrderSubmittedData>) => {
    const chain: RecordedEvent[] = [];
    let cause = order.metadata.causationId ? byId.get(order.metadata.causationId) : undefined;
    while (cause) {
      chain.unshift(cause);
      const next = cause.metadata.causationId;
      if (!next) break;
      const inAccount = byId.get(next);
      if (inAccount) {
        cause = inAccount;
        continue;
      }
      const candle = await findCandle(store, next, cause, runStarted);
      if (candle) chain.unshift(candle);
      break;
    }
    chain.push(order);
    chain.push(
      ...events.filter(
        (e) =>
          e.type === 'OrderFilled' && (e.data as OrderFilledData).clientOrderId === order.data.clientOrderId,
      ),
    );
    chain.push(
      ...events.filter(
        (e) =>
          ['OrderCancelled', 'OrderRejected', 'OrderExpired'].includes(e.type) &&
          (e.data as { clientOrderId: string }).clientOrderId === order.data.clientOrderId,
      ),
    );
    return chain;
  };
  const entryOrder = asOrder ?? orders.find((o) => o.data.clientOrderId === id)!;
  const closed =
    events.find((e) => e.type === 'PositionClosed' && (e.data as PositionClosedData).positionId === id) ??
    null;
  const exit: RecordedEvent[] = [];
  if (kind === 'trade') {
    for (const order of orders.filter((o) => o.data.positionId === id && o.data.clientOrderId !== id)) {
      const trigger = events.find((e) => e.type === 'StopTriggered' && e.id === order.metadata.causationId);
      if (trigger && !exit.includes(trigger)) exit.push(trigger);
      exit.push(...(await chainFor(order)).filter((e) => !exit.includes(e)));
    }
  }
  return {
    kind,
    id,
    account: found,
    entry: entryOrder ? await chainFor(entryOrder) : [],
    exit,
    position: { opened, closed },
  };
}

async function findAccount(store: EventStore, id: string, account?: string): Promise<string> {
  if (account) return account;
  for await (const e of store.readAll({ filter: { types: ['OrderSubmitted'] } })) {
    const d = e.data as OrderSubmittedData;
    if (d.clientOrderId === id || d.positionId === id) return e.stream;
  }
  throw new ConfigError(
    `no order or trade with id ${id} in the log`,
    'pass --account to search one account, or check the id',
  );
}

/** The signal's candle lives in its market stream: walk it back from the end to the signal's time. */
async function findCandle(store: EventStore, candleId: string, signal: RecordedEvent, run?: RunStartedData) {
  const s = signal.data as Partial<SignalEmittedData>;
  if (!s.symbol || !s.timeframe) return null;
  const stream = marketStream(run?.exchange ?? 'binance', s.symbol, s.timeframe);
  for await (const e of store.readStream(stream, { direction: 'backwards' })) {
    if (e.id === candleId) return e;
    if (e.metadata.occurredAt < signal.metadata.occurredAt - 86_400_000) break;
  }
  return null;
}

const fmt = (n: number | null | undefined, digits = 8) =>
  n === null || n === undefined ? '-' : String(significant(n, digits));
const iso = (ms: number) => new Date(ms).toISOString().replace(':00.000Z', 'Z');

/** One readable line per event of the chain. */
export function describeEvent(e: RecordedEvent): string[] {
  const d = e.data as Record<string, unknown>;
  switch (e.type) {
    case 'CandleClosed': {
      const c = d as unknown as CandleClosedData;
      return [
        `Candle   ${c.symbol} ${c.timeframe} opened ${iso(c.openTime)}: O ${c.open} H ${c.high} L ${c.low} C ${c.close} V ${c.volume}`,
      ];
    }
    case 'SignalEmitted': {
      const s = d as unknown as SignalEmittedData;
      const params = Object.entries(s.params)
        .map(([k, v]) => `${k}=${v}`)
        .join(', ');
      const indicators = Object.entries(s.indicators)
        .map(([k, v]) => `${k}=${fmt(v)}`)
        .join(' ');
      return [
        `Signal   ${s.strategy} v${s.strategyVersion} (${params}): ${s.direction} at ${s.price}, confidence ${s.confidence}; ${indicators}`,
      ];
    }
    case 'RiskDecisionMade': {
      const r = d as unknown as RiskDecisionMadeData;
      const numbers = Object.entries(r.numbers)
        .map(([k, v]) => `${k} ${fmt(v)}`)
        .join(', ');
      const lines = [
        `Risk     ${r.outcome} by ${r.rule} (risk rules v${r.riskVersion}): ${r.reason}`,
        `         quantity ${fmt(r.finalQuantity)} (requested ${fmt(r.requestedQuantity)}) at ${r.price}; stop ${fmt(r.stopPrice)}, take-profit ${fmt(r.takeProfitPrice)}`,
        `         ${numbers}`,
      ];
      for (const c of r.checks) {
        if (c.outcome === 'off') continue;
        lines.push(
          `         - ${c.rule}: ${c.outcome} (value ${fmt(c.value)}, limit ${fmt(c.limit)}${c.maxQuantity !== null ? `, max quantity ${fmt(c.maxQuantity)}` : ''})`,
        );
      }
      return lines;
    }
    case 'OrderSubmitted': {
      const o = d as unknown as OrderSubmittedData;
      const price = o.limitPrice
        ? ` limit ${fmt(o.limitPrice)}`
        : o.stopPrice
          ? ` stop ${fmt(o.stopPrice)}`
          : '';
      return [
        `Order    ${o.clientOrderId} ${o.side} ${o.type} ${fmt(o.quantity)} ${o.symbol}${price} (${o.reason}, decided at ${fmt(o.referencePrice)})`,
      ];
    }
    case 'OrderFilled': {
      const f = d as unknown as OrderFilledData;
      return [
        `Fill     #${f.fillNumber} ${fmt(f.quantity)} @ ${fmt(f.price)} = ${fmt(f.notional)} ${f.feeCurrency}; fee ${fmt(f.fee)} ${f.feeCurrency} (${f.liquidity}); slippage ${fmt(f.slippageBps, 4)} bps = ${fmt(f.slippageQuote)} from ${fmt(f.referencePrice)}`,
      ];
    }
    case 'StopTriggered':
      return [
        `Trigger  ${d.kind} at ${fmt(d.triggerPrice as number | null)}${d.gap ? ' (the candle gapped through it)' : ''}`,
      ];
    case 'PositionOpened': {
      const p = d as unknown as PositionOpenedData;
      return [
        `Opened   ${p.symbol} ${fmt(p.quantity)} @ ${fmt(p.entryPrice)}; stop ${fmt(p.stopPrice)}, take-profit ${fmt(p.takeProfitPrice)}`,
      ];
    }
    case 'PositionClosed': {
      const p = d as unknown as PositionClosedData;
      return [
        `Closed   by ${p.exitReason}: ${fmt(p.quantity)} from ${fmt(p.entryPrice)} to ${fmt(p.exitPrice)}; P&L ${fmt(p.realisedPnl)} (${fmt(p.pnlPct * 100, 4)}%, ${p.rMultiple === null ? '-' : `${fmt(p.rMultiple, 3)}R`}), fees ${fmt(p.fees)}`,
      ];
    }
    default:
      return [`${e.type.padEnd(8)} ${JSON.stringify(d)}`];
  }
}

export function explanationText(x: Explanation): string {
  const lines = [`${x.kind === 'trade' ? 'Trade' : 'Order'} ${x.id} on ${x.account}`];
  const section = (title: string, events: readonly RecordedEvent[]) => {
    if (events.length === 0) return;
    lines.push('', title);
    for (const e of events) {
      const [first, ...rest] = describeEvent(e);
      lines.push(
        `  ${iso(e.metadata.occurredAt)}  ${first}`,
        ...rest.map((l) => `                     ${l}`),
      );
    }
  };
  section(x.kind === 'trade' ? 'Why it bought:' : 'Why:', x.entry);
  if (x.position.opened) section('Position:', [x.position.opened]);
  section('How it ended:', [...x.exit, ...(x.position.closed ? [x.position.closed] : [])]);
  if (x.kind === 'trade' && !x.position.closed) lines.push('', 'The position is still open.');
  return lines.join('\n');
}
