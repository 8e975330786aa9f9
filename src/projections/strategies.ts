import { sql } from 'kysely';
import type { PositionClosedData } from '../domain/portfolio/events.js';
import type { RiskDecisionMadeData } from '../domain/risk/events.js';
import type { SignalEmittedData } from '../domain/strategies/events.js';
import type { Projector } from './projector.js';
import { type Columns, insertRows, loadRows, need, unknownEvent, upsert } from './rows.js';

/**
 * Per-strategy (per-agent) performance, per account: signals emitted, what risk made of them,
 * closed trades, winners, realised P&L. The view `readmodel.strategy_stats` adds the ratios:
 * precision = winners / closed trades (the share of its closed trades with P&L > 0), P&L
 * contribution = its realised P&L / the account's, profit factor, average R.
 * Sums are carried event by event in log order, so a rebuild gives the same bits.
 */

const COLUMNS = {
  account: 'text',
  strategy: 'text',
  signals: 'int8',
  long_signals: 'int8',
  exit_signals: 'int8',
  approved: 'int8',
  resized: 'int8',
  rejected: 'int8',
  trades: 'int8',
  winners: 'int8',
  losers: 'int8',
  realised_pnl: 'float8',
  gross_profit: 'float8',
  gross_loss: 'float8',
  sum_r: 'float8',
  r_trades: 'int8',
  first_signal_at: 'ms',
  last_signal_at: 'ms',
  last_trade_at: 'ms',
} as const satisfies Columns;

interface StrategyRow {
  account: string;
  strategy: string;
  signals: number;
  long_signals: number;
  exit_signals: number;
  approved: number;
  resized: number;
  rejected: number;
  trades: number;
  winners: number;
  losers: number;
  realised_pnl: number;
  gross_profit: number;
  gross_loss: number;
  sum_r: number;
  r_trades: number;
  first_signal_at: number | null;
  last_signal_at: number | null;
  last_trade_at: number | null;
}

const keyOf = (account: string, strategy: string) => `${account}\u0000${strategy}`;

function empty(account: string, strategy: string): StrategyRow {
  return {
    account,
    strategy,
    signals: 0,
    long_signals: 0,
    exit_signals: 0,
    approved: 0,
    resized: 0,
    rejected: 0,
    trades: 0,
    winners: 0,
    losers: 0,
    realised_pnl: 0,
    gross_profit: 0,
    gross_loss: 0,
    sum_r: 0,
    r_trades: 0,
    first_signal_at: null,
    last_signal_at: null,
    last_trade_at: null,
  };
}

export const strategiesProjector: Projector = {
  name: 'strategies',
  version: 1,
  handles: ['SignalEmitted', 'RiskDecisionMade', 'PositionClosed'],
  migrations: [
    {
      version: 1,
      name: 'per-strategy performance',
      up: [
        `create table readmodel.strategy_performance (
          account text not null,
          strategy text not null,
          signals bigint not null,
          long_signals bigint not null,
          exit_signals bigint not null,
          approved bigint not null,
          resized bigint not null,
          rejected bigint not null,
          trades bigint not null,
          winners bigint not null,
          losers bigint not null,
          realised_pnl double precision not null,
          gross_profit double precision not null,
          gross_loss double precision not null,
          sum_r double precision not null,
          r_trades bigint not null,
          first_signal_at timestamptz,
          last_signal_at timestamptz,
          last_trade_at timestamptz,
          primary key (account, strategy)
        )`,
      ],
    },
  ],
  timeSeries: {
    views: [
      {
        name: 'readmodel.strategy_stats',
        sql: `select s.*,
            case when s.trades > 0 then s.winners::float8 / s.trades end as precision,
            case when sum(s.realised_pnl) over (partition by s.account) <> 0
              then s.realised_pnl / sum(s.realised_pnl) over (partition by s.account) end as pnl_contribution,
            case when s.gross_loss < 0 then s.gross_profit / -s.gross_loss end as profit_factor,
            case when s.r_trades > 0 then s.sum_r / s.r_trades end as average_r,
            case when s.signals > 0 then (s.approved + s.resized)::float8 / s.signals end as approval_rate
          from readmodel.strategy_performance s`,
      },
    ],
  },

  async reset(tx) {
    await sql`truncate readmodel.strategy_performance`.execute(tx);
  },

  async apply(tx, events) {
    const keys = new Map<string, { account: string; strategy: string }>();
    for (const e of events) {
      const d = e.data as { account?: string; strategy?: string };
      if (d?.account && d.strategy)
        keys.set(keyOf(d.account, d.strategy), { account: d.account, strategy: d.strategy });
    }
    const rows = new Map(
      (
        await loadRows<StrategyRow>(
          tx,
          'readmodel.strategy_performance',
          COLUMNS,
          { account: 'text', strategy: 'text' },
          [...keys.values()],
        )
      ).map((r) => [keyOf(r.account, r.strategy), r]),
    );
    const touched = new Set<string>();
    const rowOf = (account: string, strategy: string) => {
      const key = keyOf(account, strategy);
      let row = rows.get(key);
      if (!row) {
        row = empty(account, strategy);
        rows.set(key, row);
      }
      touched.add(key);
      return row;
    };
    for (const event of events) {
      const at = event.metadata.occurredAt;
      if (event.type === 'SignalEmitted') {
        const d = event.data as SignalEmittedData;
        const r = rowOf(need(event, d?.account, 'account'), need(event, d.strategy, 'strategy'));
        r.signals++;
        if (d.direction === 'long') r.long_signals++;
        else r.exit_signals++;
        r.first_signal_at ??= at;
        r.last_signal_at = at;
      } else if (event.type === 'RiskDecisionMade') {
        const d = event.data as RiskDecisionMadeData;
        const r = rowOf(need(event, d?.account, 'account'), need(event, d.strategy, 'strategy'));
        if (d.outcome === 'approved') r.approved++;
        else if (d.outcome === 'resized') r.resized++;
        else r.rejected++;
      } else if (event.type === 'PositionClosed') {
        const d = event.data as PositionClosedData;
        const r = rowOf(need(event, d?.account, 'account'), need(event, d.strategy, 'strategy'));
        const pnl = need(event, d.realisedPnl, 'realisedPnl');
        r.trades++;
        r.realised_pnl += pnl;
        if (pnl > 0) {
          r.winners++;
          r.gross_profit += pnl;
        } else {
          if (pnl < 0) r.losers++;
          r.gross_loss += pnl;
        }
        if (d.rMultiple !== null) {
          r.sum_r += d.rMultiple;
          r.r_trades++;
        }
        r.last_trade_at = at;
      } else {
        throw unknownEvent('strategies', event);
      }
    }
    await insertRows(
      tx,
      'readmodel.strategy_performance',
      COLUMNS,
      [...touched].map((k) => rows.get(k)!),
      upsert(['account', 'strategy'], COLUMNS),
    );
  },
};
