import { createHash } from 'node:crypto';

/**
 * Deterministic client order ids: `tk-<account hash>-<sequence>`, at most 36 characters of
 * [A-Za-z0-9-] (Binance's limit). The account hash (of account id and run id) keeps two
 * accounts or runs on one exchange key apart; the sequence is the kernel's order counter, part
 * of its state, so a replay or a restart names every order exactly as the first run did, and
 * reconciliation after a restart can ask the exchange for an order by this id.
 */
export function clientOrderIdPrefix(accountId: string, runId: string): string {
  const hash = createHash('sha256').update(`${accountId}\u001f${runId}`).digest('hex');
  return `tk-${hash.slice(0, 12)}`;
}

export function clientOrderId(prefix: string, sequence: number): string {
  return `${prefix}-${sequence.toString(36)}`;
}
