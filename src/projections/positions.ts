import { sql } from 'kysely';
import type { OrderFilledData } from '../domain/orders/events.js';
import type { PositionClosedData, PositionOpenedData } from '../domain/portfolio/events.js';
import { ProjectionError, type Projector } from './projector.js';
import { type Columns, insertRows, loadRows, need, unknownEvent, upsert } from './rows.js';

/**
 * The positions open now, per account, kept as the kernel keeps them: the first entry fill
 * (PositionOpened) opens one, every later fill adds or removes quantity, cost, proceeds and
 * fees, PositionClosed removes it. The view `readmodel.open_positions` marks each to the last
 * close of its market (within its run's range) for value and unrealised P&L.
 */

const COLUMNS = {
  account: 'text',
  position_id: 'text',
  symbol: 'text',
  strategy: 'text',
  strategy_version: 'text',
  quantity: 'float8',
  bought_quantity: 'float8',
  bought_cost: 'float8',
  sold_quantity: 'float8',
  sold_proceeds: 'float8',
  entry_fees: 'float8',
  exit_fees: 'float8',
  average_entry_price: 'float8',
  stop_price: 'float8',
  take_profit_price: 'float8',
  trailing_distance: 'float8',
  opened_at: 'ms',
  updated_at: 'ms',
  fills: 'int4',
  last_event_position: 'int8',
} as const satisfies Columns;

interface PositionRow {
  account: string;
  position_id: string;
  symbol: string;
  strategy: string;
  strategy_version: string;
  quantity: number;
  bought_quantity: number;
  bought_cost: number;
  sold_quantity: number;
  sold_proceeds: number;
  entry_fees: number;
  exit_fees: number;
  average_entry_price: number;
  stop_price: number | null;
  take_profit_price: number | null;
  trailing_distance: number | null;
  opened_at: number;
  updated_at: number;
  fills: number;
  last_event_position: number;
}

const keyOf = (account: string, id: string) => `${account}\u0000${id}`;

export const positionsProjector: Projector = {
  name: 'positions',
  version: 1,
  handles: ['PositionOpened', 'OrderFilled', 'PositionClosed'],
  migrations: [
    {
      version: 1,
      name: 'open positions',
      up: [
        `create table readmodel.positions (
          account text not null,
          position_id text not null,
          symbol text not null,
          strategy text not null,
          strategy_version text not null,
          quantity double precision not null,
          bought_quantity double precision not null,
          bought_cost double precision not null,
          sold_quantity double precision not null,
          sold_proceeds double precision not null,
          entry_fees double precision not null,
          exit_fees double precision not null,
          average_entry_price double precision not null,
          stop_price double precision,
          take_profit_price double precision,
          trailing_distance double precision,
          opened_at timestamptz not null,
          updated_at timestamptz not null,
          fills integer not null,
          last_event_position bigint not null,
          primary key (account, position_id)
        )`,
        'create index positions_by_open on readmodel.positions (opened_at, account, position_id)',
      ],
    },
  ],
  timeSeries: {
    views: [
      {
        name: 'readmodel.open_positions',
        requires: ['readmodel.candles', 'readmodel.accounts'],
        sql: `select p.*, a.exchange, m.close as mark, m.close_time as mark_time,
            p.quantity * m.close as value,
            p.quantity * m.close + p.sold_proceeds - p.bought_cost - p.entry_fees - p.exit_fees as unrealised_pnl
          from readmodel.positions p
          left join readmodel.accounts a on a.account = p.account
          left join lateral (
            select c.close, c.close_time from readmodel.candles c
            where c.exchange = a.exchange and c.symbol = p.symbol and c.timeframe = a.timeframe
              and (a.range_to is null or c.open_time < a.range_to)
            order by c.open_time desc limit 1) m on true`,
      },
    ],
  },

  async reset(tx) {
    await sql`truncate readmodel.positions`.execute(tx);
  },

  async apply(tx, events) {
    const keys = new Map<string, { account: string; position_id: string }>();
    for (const e of events) {
      const d = e.data as { account?: string; positionId?: string };
      if (d?.account && d.positionId)
        keys.set(keyOf(d.account, d.positionId), { account: d.account, position_id: d.positionId });
    }
    const positions = new Map(
      (
        await loadRows<PositionRow>(
          tx,
          'readmodel.positions',
          COLUMNS,
          { account: 'text', position_id: 'text' },
          [...keys.values()],
        )
      ).map((p) => [keyOf(p.account, p.position_id), p]),
    );
    const touched = new Set<string>();
    const closed = new Map<string, { account: string; position_id: string }>();
    for (const event of events) {
      const at = event.metadata.occurredAt;
      if (event.type === 'PositionOpened') {
        const d = event.data as PositionOpenedData;
        const key = keyOf(need(event, d?.account, 'account'), need(event, d.positionId, 'positionId'));
        if (positions.has(key)) throw new ProjectionError(`position ${d.positionId} opened twice`);
        const cost = d.quantity * d.entryPrice;
        positions.set(key, {
          account: d.account,
          position_id: d.positionId,
          symbol: d.symbol,
          strategy: d.strategy,
          strategy_version: d.strategyVersion,
          quantity: d.quantity,
          bought_quantity: d.quantity,
          bought_cost: cost,
          sold_quantity: 0,
          sold_proceeds: 0,
          entry_fees: d.entryFee,
          exit_fees: 0,
          average_entry_price: cost / d.quantity,
          stop_price: d.stopPrice,
          take_profit_price: d.takeProfitPrice,
          trailing_distance: d.trailingDistance,
          opened_at: at,
          updated_at: at,
          fills: 1,
          last_event_position: event.position,
        });
        touched.add(key);
        closed.delete(key);
      } else if (event.type === 'OrderFilled') {
        const d = event.data as OrderFilledData;
        // the entry order's first fill opened the position: PositionOpened, next, carries it
        if (d.side === 'buy' && d.clientOrderId === d.positionId && d.fillNumber === 1) continue;
        const key = keyOf(need(event, d?.account, 'account'), need(event, d.positionId, 'positionId'));
        const p = positions.get(key);
        if (!p) {
          throw new ProjectionError(
            `OrderFilled at position ${event.position}: position ${d.positionId} of ${d.account} is not open`,
          );
        }
        // the kernel's accounting (Portfolio.buy/sell), in the same order
        if (d.side === 'buy') {
          p.quantity += d.quantity;
          p.bought_quantity += d.quantity;
          p.bought_cost += d.notional;
          p.entry_fees += d.fee;
          p.average_entry_price = p.bought_cost / p.bought_quantity;
        } else {
          p.quantity -= d.quantity;
          p.sold_quantity += d.quantity;
          p.sold_proceeds += d.notional;
          p.exit_fees += d.fee;
        }
        p.fills += 1;
        p.updated_at = at;
        p.last_event_position = event.position;
        touched.add(key);
      } else if (event.type === 'PositionClosed') {
        const d = event.data as PositionClosedData;
        const key = keyOf(need(event, d?.account, 'account'), need(event, d.positionId, 'positionId'));
        if (!positions.has(key)) {
          throw new ProjectionError(
            `PositionClosed at position ${event.position}: position ${d.positionId} of ${d.account} is not open`,
          );
        }
        positions.delete(key);
        touched.delete(key);
        closed.set(key, { account: d.account, position_id: d.positionId });
      } else {
        throw unknownEvent('positions', event);
      }
    }
    if (closed.size > 0) {
      await sql`delete from readmodel.positions p using json_to_recordset(${JSON.stringify([...closed.values()])}::json)
          as k(account text, position_id text)
        where p.account = k.account and p.position_id = k.position_id`.execute(tx);
    }
    await insertRows(
      tx,
      'readmodel.positions',
      COLUMNS,
      [...touched].map((k) => positions.get(k)!),
      upsert(['account', 'position_id'], COLUMNS),
    );
  },
};
