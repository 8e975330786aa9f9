import { sql } from 'kysely';
import type { RecordedEvent } from '../domain/events/envelope.js';
import type { CandleClosedData } from '../domain/market/events.js';
import type { OrderFilledData } from '../domain/orders/events.js';
import type { PositionClosedData } from '../domain/portfolio/events.js';
import type { RunStartedData } from '../domain/runs/events.js';
import { initialCashOf } from './accounts.js';
import { ProjectionError, type ProjectionTx, type Projector } from './projector.js';
import { type Columns, insertRows, need, unknownEvent, upsert } from './rows.js';
import type { Rollup } from './timeseries.js';

/**
 * The equity curve of every account, marked at candle closes exactly as the kernel marks it:
 *
 *   equity(T) = cash after the fills before T + Σ quantity held before T × the symbol's last close at T
 *
 * at every distinct close time T of the candles of the account's markets (exchange, timeframe,
 * symbols of its RunStarted) whose open time lies in the run's range. Cash and quantities are
 * carried fill by fill with the kernel's own arithmetic (Portfolio.buy/sell), and the sum is
 * taken in the kernel's order (cash, then the holdings in the order of the run's symbols), so the
 * curve equals `TradingKernel.equityCurve()` to the last bit.
 *
 * Candles and an account's events can reach the log in any order (a backtest's candles are
 * imported first; a live account's fills follow each candle): each batch notes, per account, the
 * earliest mark it may change, and the marks from there on are recomputed in SQL. The starting
 * capital comes from RunStarted's `settings.initialCash` (or `settings.capital`): an account
 * without one, or a fill before its RunStarted, stops the projection.
 *
 * Also: peak and drawdown per mark (drawdown from the running peak since the start, never reset),
 * the daily rollup of the curve (a continuous aggregate under TimescaleDB) and the weekly and
 * monthly ones over it,
 * and the P&L views `readmodel.pnl_daily|weekly|monthly` on them: a period's P&L is its last mark
 * minus the last mark before it (the starting capital before the first). A mark belongs to the
 * period holding T − 1 ms, as for the kernel's loss limits: the candle closing at midnight is the
 * last of its day. Realised P&L is counted on the UTC day of the closing fill.
 */

const ACCOUNT_COLUMNS = {
  account: 'text',
  exchange: 'text',
  timeframe: 'text',
  symbols: 'text[]',
  range_from: 'ms',
  range_to: 'ms',
  initial_cash: 'float8',
  cash: 'float8',
} as const satisfies Columns;

interface EquityAccount {
  account: string;
  exchange: string;
  timeframe: string;
  symbols: string[];
  range_from: number;
  range_to: number | null;
  initial_cash: number;
  cash: number;
}

const LEDGER_COLUMNS = {
  account: 'text',
  time: 'ms',
  event_position: 'int8',
  symbol: 'text',
  cash_after: 'float8',
  quantity_after: 'float8',
  realised_pnl: 'float8',
} as const satisfies Columns;

const CLOSE_COLUMNS = {
  exchange: 'text',
  symbol: 'text',
  timeframe: 'text',
  open_time: 'ms',
  close_time: 'ms',
  close: 'float8',
} as const satisfies Columns;

const rollup = (width: Rollup['width'], suffix: string): Rollup => ({
  name: `readmodel.equity_${suffix}`,
  source: 'readmodel.equity',
  timeColumn: 'time',
  width,
  offset: '1 millisecond',
  groupBy: ['account'],
  aggregates: [
    { column: 'open', fn: 'first', of: 'equity' },
    { column: 'high', fn: 'max', of: 'equity' },
    { column: 'low', fn: 'min', of: 'equity' },
    { column: 'close', fn: 'last', of: 'equity' },
    { column: 'max_drawdown', fn: 'max', of: 'drawdown' },
    { column: 'marks', fn: 'count' },
  ],
});

/**
 * Only the daily rollup is a continuous aggregate: weeks and months are plain views over the
 * days (exact: first, last, high, low and counts compose). TimescaleDB (2.23) misplaces a mark
 * at a period boundary when a month bucket with an offset is refreshed incrementally.
 */
const ROLLUPS = [rollup('1 day', 'daily')];

const periodOfDays = (suffix: string, unit: string) => ({
  name: `readmodel.equity_${suffix}`,
  sql: `select account,
      date_trunc('${unit}', bucket - interval '1 millisecond', 'UTC') + interval '1 millisecond' as bucket,
      (array_agg(open order by bucket))[1] as open, max(high) as high, min(low) as low,
      (array_agg(close order by bucket desc))[1] as close, max(max_drawdown) as max_drawdown,
      sum(marks)::int8 as marks
    from readmodel.equity_daily group by 1, 2`,
});

const pnlView = (suffix: string, unit: string) => ({
  name: `readmodel.pnl_${suffix}`,
  sql: `select d.account, d.bucket - interval '1 millisecond' as period,
      d.open as open_equity, d.high as high_equity, d.low as low_equity, d.close as equity,
      d.close - coalesce(lag(d.close) over w, a.initial_cash) as pnl,
      d.close / coalesce(lag(d.close) over w, a.initial_cash) - 1 as return,
      coalesce(r.realised_pnl, 0) as realised_pnl, coalesce(r.trades, 0) as trades,
      d.max_drawdown, d.marks
    from readmodel.equity_${suffix} d
    join readmodel.equity_accounts a on a.account = d.account
    left join (
      select account, date_trunc('${unit}', time, 'UTC') as period, sum(realised_pnl) as realised_pnl,
        count(*) as trades
      from readmodel.equity_ledger where realised_pnl is not null group by 1, 2) r
      on r.account = d.account and r.period = d.bucket - interval '1 millisecond'
    window w as (partition by d.account order by d.bucket)`,
});

export const equityProjector: Projector = {
  name: 'equity',
  version: 1,
  handles: ['RunStarted', 'OrderFilled', 'PositionClosed', 'CandleClosed'],
  migrations: [
    {
      version: 1,
      name: 'equity curve, its inputs and P&L',
      up: [
        `create table readmodel.equity_accounts (
          account text primary key,
          exchange text not null,
          timeframe text not null,
          symbols text[] not null,
          range_from timestamptz not null,
          range_to timestamptz,
          initial_cash double precision not null,
          cash double precision not null
        )`,
        `create table readmodel.equity_ledger (
          account text not null,
          time timestamptz not null,
          event_position bigint not null,
          symbol text not null,
          cash_after double precision not null,
          quantity_after double precision not null,
          realised_pnl double precision,
          primary key (account, time, event_position)
        )`,
        'create index equity_ledger_by_symbol on readmodel.equity_ledger (account, symbol, time, event_position)',
        `create table readmodel.equity_closes (
          exchange text not null,
          symbol text not null,
          timeframe text not null,
          open_time timestamptz not null,
          close_time timestamptz not null,
          close double precision not null,
          primary key (exchange, symbol, timeframe, close_time)
        )`,
        `create table readmodel.equity (
          account text not null,
          time timestamptz not null,
          equity double precision not null,
          cash double precision not null,
          positions_value double precision not null,
          peak double precision not null,
          drawdown double precision not null,
          primary key (account, time)
        )`,
      ],
    },
  ],
  timeSeries: {
    hypertables: [
      { table: 'readmodel.equity', timeColumn: 'time', chunk: '30 days' },
      { table: 'readmodel.equity_ledger', timeColumn: 'time', chunk: '90 days' },
      { table: 'readmodel.equity_closes', timeColumn: 'close_time', chunk: '30 days' },
    ],
    rollups: ROLLUPS,
    views: [
      periodOfDays('weekly', 'week'),
      periodOfDays('monthly', 'month'),
      pnlView('daily', 'day'),
      pnlView('weekly', 'week'),
      pnlView('monthly', 'month'),
      {
        name: 'readmodel.equity_latest',
        sql: `select a.account, a.initial_cash, e.time, e.equity, e.cash, e.positions_value, e.peak, e.drawdown
          from readmodel.equity_accounts a
          cross join lateral (
            select time, equity, cash, positions_value, peak, drawdown from readmodel.equity e
            where e.account = a.account order by time desc limit 1) e`,
      },
    ],
  },

  async reset(tx) {
    await sql`truncate readmodel.equity, readmodel.equity_ledger, readmodel.equity_closes,
      readmodel.equity_accounts`.execute(tx);
  },

  async apply(tx, events) {
    const accounts = await loadAccounts(tx, events);
    /** accounts by market (exchange|timeframe|symbol), for the candles */
    const byMarket = new Map<string, EquityAccount[]>();
    const index = (a: EquityAccount) => {
      for (const symbol of a.symbols) {
        const key = `${a.exchange}|${a.timeframe}|${symbol}`;
        const list = byMarket.get(key) ?? [];
        if (!list.includes(a)) list.push(a);
        byMarket.set(key, list);
      }
    };
    for (const a of accounts.values()) index(a);
    const touched = new Set<string>();
    const holdings = new Map<string, Map<string, number>>();
    const holdingsOf = async (account: string) => {
      let h = holdings.get(account);
      if (!h) {
        h = await loadHoldings(tx, account);
        holdings.set(account, h);
      }
      return h;
    };
    /** per account, the earliest mark time the batch may change */
    const dirty = new Map<string, number>();
    const markDirty = (account: string, from: number) =>
      dirty.set(account, Math.min(from, dirty.get(account) ?? Number.POSITIVE_INFINITY));
    const ledger: object[] = [];
    const closes: object[] = [];
    const accountOf = (event: RecordedEvent, account: string): EquityAccount => {
      const a = accounts.get(account);
      if (!a) {
        throw new ProjectionError(
          `${event.type} at position ${event.position}: account ${account} has no RunStarted before it (its starting capital is unknown)`,
        );
      }
      return a;
    };

    for (const event of events) {
      const at = event.metadata.occurredAt;
      switch (event.type) {
        case 'CandleClosed': {
          const c = event.data as CandleClosedData;
          need(event, c?.close, 'close');
          closes.push({
            exchange: c.exchange,
            symbol: c.symbol,
            timeframe: c.timeframe,
            open_time: c.openTime,
            close_time: c.closeTime,
            close: c.close,
          });
          for (const a of byMarket.get(`${c.exchange}|${c.timeframe}|${c.symbol}`) ?? []) {
            if (c.openTime >= a.range_from && (a.range_to === null || c.openTime < a.range_to))
              markDirty(a.account, c.closeTime);
          }
          break;
        }
        case 'RunStarted': {
          const d = event.data as RunStartedData;
          const initialCash = initialCashOf(d.settings);
          const known = accounts.get(d.account);
          if (!known) {
            if (initialCash === null) {
              throw new ProjectionError(
                `RunStarted at position ${event.position} (account ${d.account}) has no settings.initialCash: the equity curve cannot start`,
              );
            }
            accounts.set(d.account, {
              account: d.account,
              exchange: d.exchange,
              timeframe: d.timeframe,
              symbols: [...d.symbols],
              range_from: d.from,
              range_to: d.to ?? null,
              initial_cash: initialCash,
              cash: initialCash,
            });
          } else {
            // a later run of the same account (a restart) continues its cash and widens its markets
            if (known.exchange !== d.exchange || known.timeframe !== d.timeframe) {
              throw new ProjectionError(
                `RunStarted at position ${event.position}: account ${d.account} moved from ${known.exchange} ${known.timeframe} to ${d.exchange} ${d.timeframe}`,
              );
            }
            for (const s of d.symbols) if (!known.symbols.includes(s)) known.symbols.push(s);
            known.range_from = Math.min(known.range_from, d.from);
            known.range_to =
              d.to === undefined || known.range_to === null ? null : Math.max(known.range_to, d.to);
          }
          touched.add(d.account);
          index(accounts.get(d.account)!);
          markDirty(d.account, Math.min(d.from, accounts.get(d.account)!.range_from));
          break;
        }
        case 'OrderFilled': {
          const d = event.data as OrderFilledData;
          const a = accountOf(event, need(event, d?.account, 'account'));
          const held = await holdingsOf(a.account);
          let quantity = held.get(d.symbol) ?? 0;
          // Portfolio.buy / Portfolio.sell, operation for operation
          if (d.side === 'buy') {
            a.cash -= d.notional + d.fee;
            quantity += d.quantity;
          } else {
            a.cash += d.notional - d.fee;
            quantity -= d.quantity;
          }
          held.set(d.symbol, quantity);
          ledger.push({
            account: a.account,
            time: at,
            event_position: event.position,
            symbol: d.symbol,
            cash_after: a.cash,
            quantity_after: quantity,
            realised_pnl: null,
          });
          touched.add(a.account);
          markDirty(a.account, at);
          break;
        }
        case 'PositionClosed': {
          const d = event.data as PositionClosedData;
          const a = accountOf(event, need(event, d?.account, 'account'));
          (await holdingsOf(a.account)).set(d.symbol, 0);
          ledger.push({
            account: a.account,
            time: at,
            event_position: event.position,
            symbol: d.symbol,
            cash_after: a.cash,
            quantity_after: 0,
            realised_pnl: d.realisedPnl,
          });
          markDirty(a.account, at);
          break;
        }
        default:
          throw unknownEvent('equity', event);
      }
    }

    await insertRows(tx, 'readmodel.equity_closes', CLOSE_COLUMNS, closes);
    await insertRows(tx, 'readmodel.equity_ledger', LEDGER_COLUMNS, ledger);
    await insertRows(
      tx,
      'readmodel.equity_accounts',
      ACCOUNT_COLUMNS,
      [...touched].map((id) => accounts.get(id)!),
      upsert(['account'], ACCOUNT_COLUMNS),
    );
    for (const [account, from] of dirty) await markEquity(tx, account, from);
  },
};

/**
 * The accounts a batch can touch: those its events name, and those trading the markets of its
 * candles (a candle can change the marks of every account holding its symbol).
 */
async function loadAccounts(
  tx: ProjectionTx,
  events: readonly RecordedEvent[],
): Promise<Map<string, EquityAccount>> {
  const ids = new Set<string>();
  const exchanges = new Set<string>();
  const timeframes = new Set<string>();
  const symbols = new Set<string>();
  for (const e of events) {
    const d = e.data as { account?: string; exchange?: string; timeframe?: string; symbol?: string };
    if (e.type === 'CandleClosed') {
      if (d?.exchange && d.timeframe && d.symbol) {
        exchanges.add(d.exchange);
        timeframes.add(d.timeframe);
        symbols.add(d.symbol);
      }
    } else if (d?.account) ids.add(d.account);
  }
  if (ids.size === 0 && symbols.size === 0) return new Map();
  const { rows } = await sql<EquityAccount>`
    select account, exchange, timeframe, symbols,
      (extract(epoch from range_from) * 1000)::int8 as range_from,
      (extract(epoch from range_to) * 1000)::int8 as range_to,
      initial_cash, cash
    from readmodel.equity_accounts
    where account in (select value from json_array_elements_text(${JSON.stringify([...ids])}::json))
      or (exchange in (select value from json_array_elements_text(${JSON.stringify([...exchanges])}::json))
        and timeframe in (select value from json_array_elements_text(${JSON.stringify([...timeframes])}::json))
        and symbols && array(select value from json_array_elements_text(${JSON.stringify([...symbols])}::json)))`.execute(
    tx,
  );
  return new Map(
    rows.map((r) => [
      r.account,
      { ...r, range_from: Number(r.range_from), range_to: r.range_to === null ? null : Number(r.range_to) },
    ]),
  );
}

/** Quantity held per symbol after the account's last ledger row of that symbol. */
async function loadHoldings(tx: ProjectionTx, account: string): Promise<Map<string, number>> {
  const { rows } = await sql<{ symbol: string; quantity_after: number }>`
    select distinct on (symbol) symbol, quantity_after from readmodel.equity_ledger
    where account = ${account} order by symbol, event_position desc`.execute(tx);
  return new Map(rows.map((r) => [r.symbol, r.quantity_after]));
}

/** Recomputes the account's marks from `from` (epoch ms) on. */
async function markEquity(tx: ProjectionTx, account: string, from: number): Promise<void> {
  await sql`delete from readmodel.equity where account = ${account} and time >= to_timestamp(${from} / 1000.0)`.execute(
    tx,
  );
  await sql`
    insert into readmodel.equity (account, time, equity, cash, positions_value, peak, drawdown)
    with a as (
      select * from readmodel.equity_accounts where account = ${account}
    ), marks as (
      select distinct c.close_time as time
      from readmodel.equity_closes c, a
      where c.exchange = a.exchange and c.timeframe = a.timeframe and c.symbol = any(a.symbols)
        and c.open_time >= a.range_from and (a.range_to is null or c.open_time < a.range_to)
        and c.close_time >= to_timestamp(${from} / 1000.0)
    ), cash as (
      select m.time, coalesce(l.cash_after, a.initial_cash) as cash
      from marks m cross join a
      left join lateral (
        select l.cash_after from readmodel.equity_ledger l
        where l.account = a.account and l.time < m.time
        order by l.time desc, l.event_position desc limit 1) l on true
    ), held as (
      select m.time, s.ord, h.quantity_after * px.close as value
      from marks m cross join a
      cross join unnest(a.symbols) with ordinality as s(symbol, ord)
      join lateral (
        select l.quantity_after from readmodel.equity_ledger l
        where l.account = a.account and l.symbol = s.symbol and l.time < m.time
        order by l.time desc, l.event_position desc limit 1) h on h.quantity_after <> 0
      join lateral (
        select c.close from readmodel.equity_closes c
        where c.exchange = a.exchange and c.symbol = s.symbol and c.timeframe = a.timeframe
          and c.close_time <= m.time and c.open_time >= a.range_from
        order by c.close_time desc limit 1) px on true
    ), parts as (
      select time, 0::int8 as ord, cash as value from cash
      union all
      select time, ord, value from held
    ), marked as (
      -- the kernel's order: cash first, then the holdings in the order of the symbols
      select time, sum(value order by ord) as equity, min(value) filter (where ord = 0) as cash,
        coalesce(sum(value order by ord) filter (where ord > 0), 0) as positions_value
      from parts group by time
    ), peaked as (
      select m.time, m.equity, m.cash, m.positions_value,
        greatest(
          (select greatest(a.initial_cash, coalesce(max(e.equity), a.initial_cash))
           from a left join readmodel.equity e on e.account = a.account and e.time < to_timestamp(${from} / 1000.0)
           group by a.initial_cash),
          max(m.equity) over (order by m.time)) as peak
      from marked m
    )
    select ${account}, time, equity, cash, positions_value, peak,
      case when peak > 0 then greatest(0, (peak - equity) / peak) else 0 end
    from peaked`.execute(tx);
}

/** The rollups, for tests and tools that refresh them by hand. */
export const EQUITY_ROLLUPS = ROLLUPS;
