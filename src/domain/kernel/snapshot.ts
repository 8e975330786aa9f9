/**
 * The kernel's saved state. Plain JSON: a snapshot can be stored anywhere and read back by a
 * process that restarts (snapshot + the log after it = the state before the crash).
 */
import type { MarketRules } from '../execution/market-rules.js';
import type { AtrSnapshot } from '../indicators/atr.js';
import type { Order } from '../orders/order.js';
import type { PortfolioSnapshot } from '../portfolio/portfolio.js';
import type { Position } from '../portfolio/position.js';
import type { ProtectionPlan } from '../risk/entry-decision.js';
import type { EquityGuardSnapshot } from '../risk/equity-guard.js';
import type { TradeStats } from '../risk/kelly.js';
import type { ReturnsWindowSnapshot } from '../risk/returns-window.js';
import { KernelSnapshotError } from './errors.js';
import type { PendingControl } from './symbol-state.js';

/** Bump when the shape changes; old snapshots are then refused (rebuild from the log). */
export const KERNEL_SNAPSHOT_FORMAT = 'tradekernel.kernel/2';

export interface SymbolSnapshot {
  symbol: string;
  rules: MarketRules;
  lastOpenTime: number | null;
  lastClose: number | null;
  candles: number;
  atr: AtrSnapshot;
  returns: ReturnsWindowSnapshot | null;
  /** one per strategy, in the context's order */
  strategies: unknown[];
  position: Position | null;
  working: {
    order: Order;
    eventId: string;
    correlationId: string;
    positionId: string;
    strategyIndex: number;
    protection: ProtectionPlan | null;
  } | null;
  pendingControls: PendingControl[];
}

export interface KernelSnapshot {
  format: typeof KERNEL_SNAPSHOT_FORMAT;
  /** digest of the configuration the state belongs to */
  fingerprint: string;
  clock: number | null;
  orderSequence: number;
  paused: boolean;
  killSwitch: boolean;
  /** a close the equity guard has still to take (trading-kernel.ts markToClose) */
  pendingMark: { time: number; candleId: string } | null;
  equity: number;
  portfolio: PortfolioSnapshot;
  guard: EquityGuardSnapshot;
  tradeStats: Record<string, TradeStats>;
  symbols: SymbolSnapshot[];
}

/**
 * Checks the envelope of a snapshot read back from storage. The parts are checked where they
 * are restored (indicators and strategies check their own); a configuration mismatch is caught
 * by the fingerprint.
 */
export function readKernelSnapshot(value: unknown): KernelSnapshot {
  if (typeof value !== 'object' || value === null)
    throw new KernelSnapshotError('a kernel snapshot must be an object');
  const record = value as Record<string, unknown>;
  if (record.format !== KERNEL_SNAPSHOT_FORMAT) {
    throw new KernelSnapshotError(
      `snapshot format ${String(record.format)}, this build reads ${KERNEL_SNAPSHOT_FORMAT}`,
    );
  }
  for (const key of [
    'fingerprint',
    'orderSequence',
    'paused',
    'killSwitch',
    'pendingMark',
    'equity',
    'portfolio',
    'guard',
    'tradeStats',
    'symbols',
  ]) {
    if (!(key in record)) throw new KernelSnapshotError(`snapshot has no ${key}`);
  }
  if (!Array.isArray(record.symbols)) throw new KernelSnapshotError('snapshot symbols must be an array');
  return value as KernelSnapshot;
}
