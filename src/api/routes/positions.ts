import { sql } from 'kysely';
import { listRoute } from '../list-route.js';
import type { ApiModule } from '../module.js';
import { SYMBOL } from '../schemas.js';
import {
  ACCOUNT,
  afterTimeTextText,
  eq,
  int,
  keyShapes,
  ms,
  msOrNull,
  num,
  numOrNull,
  object,
  STRATEGY,
  str,
  strOrNull,
  toMs,
} from './read-models.js';

/**
 * Open positions (the `positions` projection, through `readmodel.open_positions`): quantity,
 * cost, fees and protection as the kernel keeps them, marked to the last close of the market
 * within the run's range.
 */

interface PositionsQuery {
  account?: string;
  symbol?: string;
  strategy?: string;
}

const positionSchema = object({
  account: str,
  positionId: str,
  symbol: str,
  strategy: str,
  quantity: num,
  averageEntryPrice: num,
  boughtQuantity: num,
  boughtCost: num,
  soldQuantity: num,
  soldProceeds: num,
  fees: num,
  stopPrice: numOrNull,
  takeProfitPrice: numOrNull,
  trailingDistance: numOrNull,
  openedAt: ms,
  updatedAt: ms,
  fills: int,
  mark: { ...numOrNull, description: 'last close of the market (null before any candle is projected)' },
  markedAt: msOrNull,
  value: numOrNull,
  unrealisedPnl: { ...numOrNull, description: 'quantity x mark + proceeds - cost - fees' },
  exchange: strOrNull,
});

export const positionsModule: ApiModule = {
  name: 'positions',
  tag: {
    name: 'positions',
    description: 'Positions open now, per account, marked to market (the `positions` projection).',
  },
  register(app, deps) {
    listRoute<PositionsQuery, Record<string, unknown>, readonly [number, string, string]>(
      app,
      deps,
      'positions',
      {
        url: '/v1/positions',
        summary: 'Open positions, oldest first, marked to the last close',
        filters: { account: ACCOUNT, symbol: SYMBOL, strategy: STRATEGY },
        item: positionSchema,
        isKey: keyShapes.timeTextText,
        keyOf: (p) => [p.openedAt as number, p.account as string, p.positionId as string],
        async fetch({ database }, q, { after, limit }) {
          const { rows } = await sql<Record<string, unknown>>`
          select * from readmodel.open_positions
          where true ${eq('account', q.account)} ${eq('symbol', q.symbol)} ${eq('strategy', q.strategy)}
            ${afterTimeTextText(['opened_at', 'account', 'position_id'], after)}
          order by opened_at, account, position_id
          limit ${limit}`.execute(database.db);
          return rows.map((r) => ({
            account: r.account,
            positionId: r.position_id,
            symbol: r.symbol,
            strategy: r.strategy,
            quantity: r.quantity,
            averageEntryPrice: r.average_entry_price,
            boughtQuantity: r.bought_quantity,
            boughtCost: r.bought_cost,
            soldQuantity: r.sold_quantity,
            soldProceeds: r.sold_proceeds,
            fees: (r.entry_fees as number) + (r.exit_fees as number),
            stopPrice: r.stop_price,
            takeProfitPrice: r.take_profit_price,
            trailingDistance: r.trailing_distance,
            openedAt: toMs(r.opened_at),
            updatedAt: toMs(r.updated_at),
            fills: r.fills,
            mark: r.mark,
            markedAt: toMs(r.mark_time),
            value: r.value,
            unrealisedPnl: r.unrealised_pnl,
            exchange: r.exchange,
          }));
        },
      },
    );
  },
};
