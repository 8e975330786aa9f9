import { sql } from 'kysely';
import { listRoute } from '../list-route.js';
import type { ApiModule } from '../module.js';
import {
  ACCOUNT,
  int,
  keyShapes,
  msOrNull,
  num,
  numOrNull,
  object,
  STRATEGY,
  str,
  toMs,
  toNum,
} from './read-models.js';

/**
 * Per-strategy (per-agent) performance on each account (the `strategies` projection): signals,
 * risk outcomes, closed trades, precision (share of its closed trades with P&L > 0), realised
 * P&L and its share of the account's.
 */

const statsSchema = object({
  account: str,
  strategy: str,
  signals: int,
  longSignals: int,
  exitSignals: int,
  approved: int,
  resized: int,
  rejected: int,
  trades: int,
  winners: int,
  losers: int,
  precision: { ...numOrNull, description: 'winners / closed trades' },
  realisedPnl: num,
  pnlContribution: { ...numOrNull, description: "its realised P&L / the account's" },
  profitFactor: numOrNull,
  averageR: numOrNull,
  firstSignalAt: msOrNull,
  lastSignalAt: msOrNull,
  lastTradeAt: msOrNull,
});

export const strategiesModule: ApiModule = {
  name: 'strategies',
  tag: {
    name: 'strategies',
    description:
      'Per-strategy performance: signals, precision, P&L contribution (the `strategies` projection).',
  },
  register(app, deps) {
    listRoute<{ account?: string; strategy?: string }, Record<string, unknown>, readonly [string, string]>(
      app,
      deps,
      'strategies',
      {
        url: '/v1/strategies',
        summary: 'Performance of each strategy on each account',
        filters: { account: ACCOUNT, strategy: STRATEGY },
        item: statsSchema,
        isKey: keyShapes.textText,
        keyOf: (s) => [s.account as string, s.strategy as string],
        async fetch({ database }, q, { after, limit }) {
          const { rows } = await sql<Record<string, unknown>>`
            select * from readmodel.strategy_stats
            where true
              ${q.account === undefined ? sql`` : sql`and account = ${q.account}`}
              ${q.strategy === undefined ? sql`` : sql`and strategy = ${q.strategy}`}
              ${after === null ? sql`` : sql`and (account, strategy) > (${after[0]}, ${after[1]})`}
            order by account, strategy limit ${limit}`.execute(database.db);
          return rows.map((r) => ({
            account: r.account,
            strategy: r.strategy,
            signals: toNum(r.signals),
            longSignals: toNum(r.long_signals),
            exitSignals: toNum(r.exit_signals),
            approved: toNum(r.approved),
            resized: toNum(r.resized),
            rejected: toNum(r.rejected),
            trades: toNum(r.trades),
            winners: toNum(r.winners),
            losers: toNum(r.losers),
            precision: r.precision,
            realisedPnl: r.realised_pnl,
            pnlContribution: r.pnl_contribution,
            profitFactor: r.profit_factor,
            averageR: r.average_r,
            firstSignalAt: toMs(r.first_signal_at),
            lastSignalAt: toMs(r.last_signal_at),
            lastTradeAt: toMs(r.last_trade_at),
          }));
        },
      },
    );
  },
};
