import { type RawBuilder, sql } from 'kysely';
import { listRoute } from '../list-route.js';
import type { ApiDeps, ApiModule } from '../module.js';
import { SYMBOL } from '../schemas.js';
import {
  ACCOUNT,
  afterTimeTextText,
  eq,
  FROM,
  inRange,
  keyShapes,
  ms,
  msOrNull,
  num,
  numOrNull,
  object,
  STRATEGY,
  str,
  strOrNull,
  TO,
  timeRange,
  toMs,
} from './read-models.js';

/** Round trips (the `trades` projection): entry, exit, P&L, R-multiple, exit reason. */

export interface TradesQuery {
  account?: string;
  symbol?: string;
  strategy?: string;
  status?: 'open' | 'closed';
  from?: string;
  to?: string;
}

export const tradeSchema = object({
  account: str,
  positionId: str,
  symbol: str,
  side: str,
  strategy: str,
  strategyVersion: str,
  status: { type: 'string', enum: ['open', 'closed'] },
  openedAt: ms,
  closedAt: msOrNull,
  quantity: { ...num, description: 'closed: all the entry fills; open: the first entry fill' },
  entryPrice: { ...num, description: 'volume-weighted (open: the first fill price)' },
  exitPrice: numOrNull,
  fees: numOrNull,
  realisedPnl: { ...numOrNull, description: 'exit proceeds - entry cost - fees' },
  pnlPct: numOrNull,
  rMultiple: { ...numOrNull, description: 'realised P&L / the risk taken at entry; null without a stop' },
  exitReason: strOrNull,
  stopPrice: numOrNull,
  takeProfitPrice: numOrNull,
});

export const TRADE_FILTERS = {
  account: ACCOUNT,
  symbol: SYMBOL,
  strategy: STRATEGY,
  status: { type: 'string', enum: ['open', 'closed'], default: 'closed' },
  from: FROM,
  to: TO,
};

/** Trades matching the query, by closing time (open ones: by opening time). */
export async function selectTrades(
  { database }: ApiDeps,
  q: TradesQuery,
  after: readonly [number, string, string] | null,
  limit: number,
  where: RawBuilder<unknown> = sql``,
) {
  const range = timeRange(q);
  const open = q.status === 'open';
  const time = open ? 'opened_at' : 'closed_at';
  const { rows } = await sql<Record<string, unknown>>`
    select * from readmodel.trades
    where status = ${open ? 'open' : 'closed'} ${where}
      ${eq('account', q.account)} ${eq('symbol', q.symbol)} ${eq('strategy', q.strategy)}
      ${inRange(time, range)} ${afterTimeTextText([time, 'account', 'position_id'], after)}
    order by ${sql.ref(time)}, account, position_id
    limit ${limit}`.execute(database.db);
  return rows.map((r) => ({
    account: r.account as string,
    positionId: r.position_id as string,
    symbol: r.symbol,
    side: r.side,
    strategy: r.strategy,
    strategyVersion: r.strategy_version,
    status: r.status,
    openedAt: toMs(r.opened_at) as number,
    closedAt: toMs(r.closed_at),
    quantity: r.quantity ?? r.first_quantity,
    entryPrice: r.entry_price ?? r.first_price,
    exitPrice: r.exit_price,
    fees: r.fees,
    realisedPnl: r.realised_pnl,
    pnlPct: r.pnl_pct,
    rMultiple: r.r_multiple,
    exitReason: r.exit_reason,
    stopPrice: r.stop_price,
    takeProfitPrice: r.take_profit_price,
  }));
}

export type TradeItem = Awaited<ReturnType<typeof selectTrades>>[number];

export const tradeKey = (t: TradeItem): readonly [number, string, string] => [
  t.closedAt ?? t.openedAt,
  t.account,
  t.positionId,
];

export const tradesModule: ApiModule = {
  name: 'trades',
  tag: { name: 'trades', description: 'Round trips with P&L and R-multiple (the `trades` projection).' },
  register(app, deps) {
    listRoute<TradesQuery, TradeItem, readonly [number, string, string]>(app, deps, 'trades', {
      url: '/v1/trades',
      summary: 'Closed round trips by closing time (status=open: the open ones by opening time)',
      description: '`from`/`to` filter on the closing time (on the opening time with status=open).',
      filters: TRADE_FILTERS,
      item: tradeSchema,
      isKey: keyShapes.timeTextText,
      keyOf: tradeKey,
      fetch: (d, q, { after, limit }) => selectTrades(d, q, after, limit),
    });
  },
};
