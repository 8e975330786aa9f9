/**
 * Tax lots: every sell (a disposal) matched against earlier buys (acquisitions) of the same
 * symbol by FIFO (oldest first), LIFO (newest first) or HIFO (highest cost first). All amounts
 * are in the quote currency. Fees are allocated pro rata to the quantity: a lot's cost basis
 * includes its share of the buy fee, a disposal's fees are its share of the sell fee.
 *
 *   gain = proceeds − cost basis − fees
 *
 * so over positions that are closed, the gains add up to the portfolio's realised P&L whatever
 * the method (the method only moves gains between tax years).
 */

export const LOT_METHODS = ['fifo', 'lifo', 'hifo'] as const;
export type LotMethod = (typeof LOT_METHODS)[number];

export interface Fill {
  time: number;
  symbol: string;
  side: 'buy' | 'sell';
  price: number;
  quantity: number;
  fee: number;
  /** the order it belongs to, for reference */
  orderId: string;
}

export interface Disposal {
  symbol: string;
  acquiredAt: number;
  disposedAt: number;
  quantity: number;
  costBasis: number;
  proceeds: number;
  fees: number;
  gain: number;
  buyOrderId: string;
  sellOrderId: string;
}

interface Lot {
  time: number;
  price: number;
  quantity: number;
  /** buy fee per unit of quantity */
  feePerUnit: number;
  orderId: string;
}

/** Quantities below this are dust left by float arithmetic, not holdings. */
const DUST = 1e-12;

export class LedgerError extends Error {}

export function disposals(fills: readonly Fill[], method: LotMethod): Disposal[] {
  const lots = new Map<string, Lot[]>();
  const out: Disposal[] = [];
  for (const fill of fills) {
    const held = lots.get(fill.symbol) ?? [];
    lots.set(fill.symbol, held);
    if (fill.side === 'buy') {
      held.push({
        time: fill.time,
        price: fill.price,
        quantity: fill.quantity,
        feePerUnit: fill.fee / fill.quantity,
        orderId: fill.orderId,
      });
      continue;
    }
    let remaining = fill.quantity;
    const sellFeePerUnit = fill.fee / fill.quantity;
    while (remaining > DUST) {
      const index = pick(held, method);
      if (index < 0) {
        throw new LedgerError(
          `${fill.symbol}: sell of ${fill.quantity} at ${new Date(fill.time).toISOString()} exceeds the holdings`,
        );
      }
      const lot = held[index]!;
      const quantity = Math.min(remaining, lot.quantity);
      const costBasis = quantity * (lot.price + lot.feePerUnit);
      const proceeds = quantity * fill.price;
      const fees = quantity * sellFeePerUnit;
      out.push({
        symbol: fill.symbol,
        acquiredAt: lot.time,
        disposedAt: fill.time,
        quantity,
        costBasis,
        proceeds,
        fees,
        gain: proceeds - costBasis - fees,
        buyOrderId: lot.orderId,
        sellOrderId: fill.orderId,
      });
      lot.quantity -= quantity;
      remaining -= quantity;
      if (lot.quantity <= DUST) held.splice(index, 1);
    }
  }
  return out;
}

function pick(lots: readonly Lot[], method: LotMethod): number {
  if (lots.length === 0) return -1;
  if (method === 'fifo') return 0;
  if (method === 'lifo') return lots.length - 1;
  let best = 0;
  for (let i = 1; i < lots.length; i++)
    if (lots[i]!.price + lots[i]!.feePerUnit > lots[best]!.price + lots[best]!.feePerUnit) best = i;
  return best;
}

export interface LedgerTotals {
  disposals: number;
  /** base units disposed of, per symbol (quantities of different assets do not add up) */
  quantityBySymbol: Record<string, number>;
  costBasis: number;
  proceeds: number;
  fees: number;
  gain: number;
}

export function totals(rows: readonly Disposal[]): LedgerTotals {
  const t: LedgerTotals = {
    disposals: rows.length,
    quantityBySymbol: {},
    costBasis: 0,
    proceeds: 0,
    fees: 0,
    gain: 0,
  };
  for (const r of rows) {
    t.quantityBySymbol[r.symbol] = (t.quantityBySymbol[r.symbol] ?? 0) + r.quantity;
    t.costBasis += r.costBasis;
    t.proceeds += r.proceeds;
    t.fees += r.fees;
    t.gain += r.gain;
  }
  return t;
}
