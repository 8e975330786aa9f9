import { sql } from 'kysely';
import type { PositionClosedData, PositionOpenedData } from '../domain/portfolio/events.js';
import { ProjectionError, type Projector } from './projector.js';
import { type Columns, insertRows, loadRows, need, unknownEvent, upsert } from './rows.js';

/**
 * Round trips: one row per position, `open` from its PositionOpened (first fill, protection),
 * `closed` with the PositionClosed numbers: volume-weighted entry and exit prices, fees,
 * realised P&L, P&L %, R-multiple and exit reason.
 */

const COLUMNS = {
  account: 'text',
  position_id: 'text',
  symbol: 'text',
  side: 'text',
  strategy: 'text',
  strategy_version: 'text',
  status: 'text',
  opened_at: 'ms',
  first_quantity: 'float8',
  first_price: 'float8',
  first_fee: 'float8',
  stop_price: 'float8',
  take_profit_price: 'float8',
  trailing_distance: 'float8',
  time_stop_candles: 'int4',
  quantity: 'float8',
  entry_price: 'float8',
  exit_price: 'float8',
  entry_time: 'ms',
  exit_time: 'ms',
  fees: 'float8',
  realised_pnl: 'float8',
  pnl_pct: 'float8',
  r_multiple: 'float8',
  exit_reason: 'text',
  closed_at: 'ms',
  opened_position: 'int8',
  closed_position: 'int8',
} as const satisfies Columns;

type TradeRow = { -readonly [K in keyof typeof COLUMNS]: unknown } & {
  account: string;
  position_id: string;
  status: string;
};

const keyOf = (account: string, id: string) => `${account}\u0000${id}`;

export const tradesProjector: Projector = {
  name: 'trades',
  version: 1,
  handles: ['PositionOpened', 'PositionClosed'],
  migrations: [
    {
      version: 1,
      name: 'trades (round trips)',
      up: [
        `create table readmodel.trades (
          account text not null,
          position_id text not null,
          symbol text not null,
          side text not null,
          strategy text not null,
          strategy_version text not null,
          status text not null,
          opened_at timestamptz not null,
          first_quantity double precision not null,
          first_price double precision not null,
          first_fee double precision not null,
          stop_price double precision,
          take_profit_price double precision,
          trailing_distance double precision,
          time_stop_candles integer,
          quantity double precision,
          entry_price double precision,
          exit_price double precision,
          entry_time timestamptz,
          exit_time timestamptz,
          fees double precision,
          realised_pnl double precision,
          pnl_pct double precision,
          r_multiple double precision,
          exit_reason text,
          closed_at timestamptz,
          opened_position bigint not null,
          closed_position bigint,
          primary key (account, position_id)
        )`,
        'create index trades_by_close on readmodel.trades (closed_at, account, position_id)',
        'create index trades_by_strategy on readmodel.trades (account, strategy, closed_at)',
      ],
    },
  ],

  async reset(tx) {
    await sql`truncate readmodel.trades`.execute(tx);
  },

  async apply(tx, events) {
    const keys = new Map<string, { account: string; position_id: string }>();
    for (const e of events) {
      const d = e.data as { account?: string; positionId?: string };
      if (d?.account && d.positionId)
        keys.set(keyOf(d.account, d.positionId), { account: d.account, position_id: d.positionId });
    }
    const trades = new Map(
      (
        await loadRows<TradeRow>(tx, 'readmodel.trades', COLUMNS, { account: 'text', position_id: 'text' }, [
          ...keys.values(),
        ])
      ).map((t) => [keyOf(t.account, t.position_id), t]),
    );
    const touched = new Set<string>();
    for (const event of events) {
      if (event.type === 'PositionOpened') {
        const d = event.data as PositionOpenedData;
        const key = keyOf(need(event, d?.account, 'account'), need(event, d.positionId, 'positionId'));
        if (trades.has(key))
          throw new ProjectionError(`position ${d.positionId} opened twice (position ${event.position})`);
        const row = Object.fromEntries(Object.keys(COLUMNS).map((c) => [c, null])) as unknown as TradeRow;
        trades.set(
          key,
          Object.assign(row, {
            account: d.account,
            position_id: d.positionId,
            symbol: d.symbol,
            side: d.side,
            strategy: d.strategy,
            strategy_version: d.strategyVersion,
            status: 'open',
            opened_at: event.metadata.occurredAt,
            first_quantity: d.quantity,
            first_price: d.entryPrice,
            first_fee: d.entryFee,
            stop_price: d.stopPrice,
            take_profit_price: d.takeProfitPrice,
            trailing_distance: d.trailingDistance,
            time_stop_candles: d.timeStopCandles,
            opened_position: event.position,
          }),
        );
        touched.add(key);
      } else if (event.type === 'PositionClosed') {
        const d = event.data as PositionClosedData;
        const key = keyOf(need(event, d?.account, 'account'), need(event, d.positionId, 'positionId'));
        const trade = trades.get(key);
        if (!trade) {
          throw new ProjectionError(
            `PositionClosed at position ${event.position}: position ${d.positionId} of ${d.account} was never opened`,
          );
        }
        if (trade.status === 'closed') throw new ProjectionError(`position ${d.positionId} closed twice`);
        Object.assign(trade, {
          status: 'closed',
          quantity: d.quantity,
          entry_price: d.entryPrice,
          exit_price: d.exitPrice,
          entry_time: d.entryTime,
          exit_time: d.exitTime,
          fees: d.fees,
          realised_pnl: d.realisedPnl,
          pnl_pct: d.pnlPct,
          r_multiple: d.rMultiple,
          exit_reason: d.exitReason,
          closed_at: event.metadata.occurredAt,
          closed_position: event.position,
        });
        touched.add(key);
      } else {
        throw unknownEvent('trades', event);
      }
    }
    await insertRows(
      tx,
      'readmodel.trades',
      COLUMNS,
      [...touched].map((k) => trades.get(k)!),
      upsert(['account', 'position_id'], COLUMNS),
    );
  },
};
