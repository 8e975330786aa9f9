import { sql } from 'kysely';
import { listRoute } from '../list-route.js';
import type { ApiDeps, ApiModule } from '../module.js';
import { keys } from '../pagination.js';
import { notFound } from '../problem.js';
import {
  ACCOUNT,
  FROM,
  inRange,
  int,
  ms,
  num,
  numOrNull,
  object,
  TO,
  timeRange,
  toMs,
  toNum,
} from './read-models.js';

/**
 * The equity curve and P&L per period (the `equity` projection). Marks are taken at every candle
 * close of the account's markets, as the kernel takes them; a period holds the marks of T - 1 ms
 * in it (the candle closing at midnight is the last of its day), in UTC.
 */

const PERIODS = { day: 'daily', week: 'weekly', month: 'monthly' } as const;
type Period = keyof typeof PERIODS;

interface EquityQuery {
  account: string;
  from?: string;
  to?: string;
  interval?: 'mark' | Period;
}

interface PnlQuery {
  account: string;
  period?: Period;
  from?: string;
  to?: string;
}

const markSchema = object({
  time: {
    ...ms,
    description: 'the mark time (a candle close); for interval=day|week|month, the period start',
  },
  equity: { ...num, description: 'cash + positions at the last closes; for a period, its last mark' },
  cash: numOrNull,
  positionsValue: numOrNull,
  peak: { ...numOrNull, description: 'highest equity so far (null for periods)' },
  drawdown: { ...num, description: 'fraction below the peak (for a period: the largest in it)' },
});

const pnlSchema = object({
  period: { ...ms, description: 'start of the UTC day, ISO week (Monday) or month' },
  openEquity: { ...num, description: 'first mark of the period' },
  highEquity: num,
  lowEquity: num,
  equity: { ...num, description: 'last mark of the period' },
  pnl: {
    ...num,
    description: 'equity - the last mark before the period (the starting capital before the first)',
  },
  return: { ...num, description: 'pnl / the last mark before the period' },
  realisedPnl: { ...num, description: 'P&L of the positions closed in the period (by the closing fill)' },
  trades: { ...int, description: 'positions closed in the period' },
  maxDrawdown: num,
  marks: int,
});

async function whenNoAccount({ database }: ApiDeps, q: { account: string }) {
  const { rows } = await sql`select 1 from readmodel.equity_accounts where account = ${q.account}`.execute(
    database.db,
  );
  if (rows.length === 0) {
    throw notFound(
      `no equity curve for account ${q.account}: it has no RunStarted with its capital (or is not projected yet)`,
    );
  }
}

export const equityModule: ApiModule = {
  name: 'equity',
  tag: {
    name: 'equity',
    description: 'Equity curve and daily, weekly, monthly P&L (the `equity` projection).',
  },
  register(app, deps) {
    listRoute<EquityQuery, Record<string, unknown>, readonly [number]>(app, deps, 'equity', {
      url: '/v1/equity',
      summary: 'Equity curve of an account: every mark, or the last mark of each day, week or month',
      description:
        '`from`/`to` filter on the mark time (the period start for interval=day|week|month). 404 when the account has no curve.',
      filters: {
        account: ACCOUNT,
        from: FROM,
        to: TO,
        interval: { type: 'string', enum: ['mark', 'day', 'week', 'month'], default: 'mark' },
      },
      required: ['account'],
      item: markSchema,
      defaultLimit: 1_000,
      maxLimit: 10_000,
      problems: [404],
      isKey: keys.epochMs,
      keyOf: (m) => [m.time as number],
      async fetch({ database }, q, { after, limit }) {
        const range = timeRange(q);
        const interval = q.interval ?? 'mark';
        if (interval === 'mark') {
          const { rows } = await sql<Record<string, unknown>>`
            select time, equity, cash, positions_value, peak, drawdown from readmodel.equity
            where account = ${q.account} ${inRange('time', range)}
              ${after === null ? sql`` : sql`and time > to_timestamp(${after[0]} / 1000.0)`}
            order by time limit ${limit}`.execute(database.db);
          return rows.map((r) => ({
            time: toMs(r.time),
            equity: r.equity,
            cash: r.cash,
            positionsValue: r.positions_value,
            peak: r.peak,
            drawdown: r.drawdown,
          }));
        }
        const { rows } = await sql<Record<string, unknown>>`
          select period, equity, max_drawdown from ${sql.raw(`readmodel.pnl_${PERIODS[interval]}`)}
          where account = ${q.account} ${inRange('period', range)}
            ${after === null ? sql`` : sql`and period > to_timestamp(${after[0]} / 1000.0)`}
          order by period limit ${limit}`.execute(database.db);
        return rows.map((r) => ({
          time: toMs(r.period),
          equity: r.equity,
          cash: null,
          positionsValue: null,
          peak: null,
          drawdown: r.max_drawdown,
        }));
      },
      whenEmpty: whenNoAccount,
    });

    listRoute<PnlQuery, Record<string, unknown>, readonly [number]>(app, deps, 'equity', {
      url: '/v1/pnl',
      summary: 'P&L per UTC day, ISO week or month: equity-based and realised',
      description: '`from`/`to` filter on the period start. 404 when the account has no curve.',
      filters: {
        account: ACCOUNT,
        period: { type: 'string', enum: ['day', 'week', 'month'], default: 'day' },
        from: FROM,
        to: TO,
      },
      required: ['account'],
      item: pnlSchema,
      defaultLimit: 500,
      maxLimit: 5_000,
      problems: [404],
      isKey: keys.epochMs,
      keyOf: (p) => [p.period as number],
      async fetch({ database }, q, { after, limit }) {
        const range = timeRange(q);
        const { rows } = await sql<Record<string, unknown>>`
          select * from ${sql.raw(`readmodel.pnl_${PERIODS[q.period ?? 'day']}`)}
          where account = ${q.account} ${inRange('period', range)}
            ${after === null ? sql`` : sql`and period > to_timestamp(${after[0]} / 1000.0)`}
          order by period limit ${limit}`.execute(database.db);
        return rows.map((r) => ({
          period: toMs(r.period),
          openEquity: r.open_equity,
          highEquity: r.high_equity,
          lowEquity: r.low_equity,
          equity: r.equity,
          pnl: r.pnl,
          return: r.return,
          realisedPnl: r.realised_pnl,
          trades: toNum(r.trades),
          maxDrawdown: r.max_drawdown,
          marks: toNum(r.marks),
        }));
      },
      whenEmpty: whenNoAccount,
    });
  },
};
