import { ConfigError } from '../../domain/errors.js';
import type { RecordedEvent } from '../../domain/events/envelope.js';
import type { OrderFilledData } from '../../domain/orders/events.js';
import type { EventStore } from '../../domain/ports/event-store.js';
import {
  type Disposal,
  disposals,
  type Fill,
  type LedgerTotals,
  type LotMethod,
  totals,
} from '../../domain/tax/ledger.js';

export interface TaxLedger {
  account: string;
  year: number | null;
  method: LotMethod;
  disposals: Disposal[];
  totals: LedgerTotals;
}

export function fillsOf(events: Iterable<Pick<RecordedEvent, 'type' | 'data' | 'metadata'>>): Fill[] {
  const fills: Fill[] = [];
  for (const e of events) {
    if (e.type !== 'OrderFilled') continue;
    const d = e.data as OrderFilledData;
    fills.push({
      time: e.metadata.occurredAt,
      symbol: d.symbol,
      side: d.side,
      price: d.price,
      quantity: d.quantity,
      fee: d.fee,
      orderId: d.clientOrderId,
    });
  }
  return fills;
}

/** Every disposal of the account (all years are matched, so lots carry across years), then the year's. */
export async function taxLedger(
  store: EventStore,
  account: string,
  method: LotMethod,
  year?: number,
): Promise<TaxLedger> {
  if ((await store.streamRevision(account)) < 0) {
    throw new ConfigError(
      `no account stream named ${account}`,
      '`tradekernel store tail --type RunStarted -n 100` lists the accounts (bt-*, paper-*, live-*)',
    );
  }
  const events: RecordedEvent[] = [];
  for await (const e of store.readStream(account)) if (e.type === 'OrderFilled') events.push(e);
  const all = disposals(fillsOf(events), method);
  const inYear =
    year === undefined ? all : all.filter((d) => new Date(d.disposedAt).getUTCFullYear() === year);
  return { account, year: year ?? null, method, disposals: inYear, totals: totals(inYear) };
}

export const LEDGER_COLUMNS = [
  'symbol',
  'acquired_at',
  'disposed_at',
  'quantity',
  'cost_basis',
  'proceeds',
  'fees',
  'gain',
  'buy_order',
  'sell_order',
];

export function ledgerCsv(ledger: TaxLedger): string {
  const rows = ledger.disposals.map((d) =>
    [
      d.symbol,
      new Date(d.acquiredAt).toISOString(),
      new Date(d.disposedAt).toISOString(),
      d.quantity,
      d.costBasis,
      d.proceeds,
      d.fees,
      d.gain,
      d.buyOrderId,
      d.sellOrderId,
    ].join(','),
  );
  return `${[LEDGER_COLUMNS.join(','), ...rows].join('\n')}\n`;
}
