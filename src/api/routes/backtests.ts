import { sql } from 'kysely';
import { listRoute, pageSchema } from '../list-route.js';
import type { ApiDeps, ApiModule } from '../module.js';
import { decodeCursor, encodeCursor, nextLink, type Page, type PageParams, scopeOf } from '../pagination.js';
import { notFound, problemResponses } from '../problem.js';
import {
  ACCOUNT,
  anyJson,
  int,
  keyShapes,
  ms,
  msOrNull,
  numOrNull,
  object,
  RUN_ID,
  STRATEGY,
  str,
  strOrNull,
  toMs,
  toNum,
} from './read-models.js';
import {
  selectTrades,
  TRADE_FILTERS,
  type TradeItem,
  type TradesQuery,
  tradeKey,
  tradeSchema,
} from './trades.js';

/**
 * Backtest runs (the `accounts` projection: RunStarted, RunCompleted) and their results, from the
 * read models of the run's account: trades, realised P&L, fees, the equity curve's end and its
 * largest drawdown. The run's own headline numbers (RunCompleted.metrics) come as they were
 * recorded.
 */

interface BacktestsQuery {
  account?: string;
  strategy?: string;
  status?: 'running' | 'completed';
}

const runProperties = {
  runId: str,
  account: str,
  mode: str,
  status: { type: 'string', enum: ['running', 'completed'] },
  exchange: str,
  timeframe: str,
  symbols: { type: 'array', items: str },
  strategies: { ...anyJson, description: 'name, version and parameters of each strategy' },
  from: { ...ms, description: 'replay range start (open times)' },
  to: { ...msOrNull, description: 'replay range end, exclusive' },
  settings: { ...anyJson, description: 'capital, fees, slippage, risk rules…' },
  initialCash: numOrNull,
  kernelVersion: str,
  startedAt: ms,
  completedAt: msOrNull,
  dataPoints: { type: ['integer', 'null'] },
  decisions: { type: ['integer', 'null'] },
  decisionHash: strOrNull,
  metrics: { ...anyJson, description: 'headline numbers recorded by RunCompleted (null while running)' },
};

const runSchema = object(runProperties);

const resultsSchema = object({
  trades: int,
  winners: int,
  winRate: numOrNull,
  realisedPnl: numOrNull,
  fees: numOrNull,
  openPositions: int,
  initialEquity: numOrNull,
  finalEquity: numOrNull,
  totalReturn: { ...numOrNull, description: 'final equity / initial cash - 1' },
  maxDrawdown: numOrNull,
  marks: int,
  firstMarkAt: msOrNull,
  lastMarkAt: msOrNull,
});

const detailSchema = object({ ...runProperties, results: resultsSchema });

const { account: _account, ...TRADE_FILTERS_WITHOUT_ACCOUNT } = TRADE_FILTERS;

function toRun(r: Record<string, unknown>) {
  return {
    runId: r.run_id as string,
    account: r.account as string,
    mode: r.mode,
    status: r.completed_at === null ? 'running' : 'completed',
    exchange: r.exchange,
    timeframe: r.timeframe,
    symbols: r.symbols,
    strategies: r.strategies,
    from: toMs(r.range_from),
    to: toMs(r.range_to),
    settings: r.settings,
    initialCash: r.initial_cash,
    kernelVersion: r.kernel_version,
    startedAt: toMs(r.started_at) as number,
    completedAt: toMs(r.completed_at),
    dataPoints: toNum(r.data_points),
    decisions: toNum(r.decisions),
    decisionHash: r.decision_hash,
    metrics: r.metrics,
  };
}

async function findRun({ database }: ApiDeps, runId: string) {
  const { rows } = await sql<Record<string, unknown>>`
    select * from readmodel.runs where run_id = ${runId} and mode = 'backtest'`.execute(database.db);
  if (!rows[0]) throw notFound(`no backtest run ${runId}: /v1/backtests lists them`);
  return toRun(rows[0]);
}

async function results({ database }: ApiDeps, account: string, initialCash: number | null) {
  const { rows } = await sql<Record<string, unknown>>`
    select
      (select count(*) from readmodel.trades where account = ${account} and status = 'closed') as trades,
      (select count(*) from readmodel.trades where account = ${account} and status = 'closed' and realised_pnl > 0) as winners,
      (select sum(realised_pnl) from readmodel.trades where account = ${account} and status = 'closed') as realised,
      (select sum(fees) from readmodel.orders where account = ${account}) as fees,
      (select count(*) from readmodel.positions where account = ${account}) as open_positions,
      e.*
    from (select count(*) as marks, max(drawdown) as max_drawdown, min(time) as first_at, max(time) as last_at
          from readmodel.equity where account = ${account}) e`.execute(database.db);
  const r = rows[0]!;
  const { rows: last } = await sql<{ equity: number }>`
    select equity from readmodel.equity where account = ${account} order by time desc limit 1`.execute(
    database.db,
  );
  const trades = toNum(r.trades) ?? 0;
  const winners = toNum(r.winners) ?? 0;
  const finalEquity = last[0]?.equity ?? null;
  return {
    trades,
    winners,
    winRate: trades > 0 ? winners / trades : null,
    realisedPnl: toNum(r.realised),
    fees: toNum(r.fees),
    openPositions: toNum(r.open_positions) ?? 0,
    initialEquity: initialCash,
    finalEquity,
    totalReturn: finalEquity !== null && initialCash ? finalEquity / initialCash - 1 : null,
    maxDrawdown: toNum(r.max_drawdown),
    marks: toNum(r.marks) ?? 0,
    firstMarkAt: toMs(r.first_at),
    lastMarkAt: toMs(r.last_at),
  };
}

export const backtestsModule: ApiModule = {
  name: 'backtests',
  tag: {
    name: 'backtests',
    description:
      'Backtest runs and their results (RunStarted, RunCompleted and the read models of their accounts).',
  },
  register(app, deps) {
    listRoute<BacktestsQuery, ReturnType<typeof toRun>, readonly [number, string]>(app, deps, 'backtests', {
      url: '/v1/backtests',
      summary: 'Backtest runs by start time',
      filters: {
        account: ACCOUNT,
        strategy: { ...STRATEGY, description: 'runs that used this strategy' },
        status: { type: 'string', enum: ['running', 'completed'] },
      },
      item: runSchema,
      isKey: keyShapes.timeText,
      keyOf: (r) => [r.startedAt, r.runId],
      async fetch({ database }, q, { after, limit }) {
        const { rows } = await sql<Record<string, unknown>>`
          select * from readmodel.runs
          where mode = 'backtest'
            ${q.account === undefined ? sql`` : sql`and account = ${q.account}`}
            ${q.strategy === undefined ? sql`` : sql`and strategies @> ${JSON.stringify([{ name: q.strategy }])}::jsonb`}
            ${q.status === undefined ? sql`` : q.status === 'completed' ? sql`and completed_at is not null` : sql`and completed_at is null`}
            ${after === null ? sql`` : sql`and (started_at, run_id) > (to_timestamp(${after[0]} / 1000.0), ${after[1]})`}
          order by started_at, run_id limit ${limit}`.execute(database.db);
        return rows.map(toRun);
      },
    });

    app.get<{ Params: { runId: string } }>(
      '/v1/backtests/:runId',
      {
        schema: {
          summary:
            'One backtest run: its inputs, settings, recorded metrics and results from the read models',
          tags: ['backtests'],
          params: { type: 'object', required: ['runId'], properties: { runId: RUN_ID } },
          response: { 200: detailSchema, ...problemResponses(400, 404, 503) },
        },
      },
      async (request) => {
        const run = await findRun(deps, request.params.runId);
        return { ...run, results: await results(deps, run.account, run.initialCash as number | null) };
      },
    );

    // a list with a path parameter: the page mechanics of listRoute(), by hand
    app.get<{ Params: { runId: string }; Querystring: TradesQuery & PageParams }>(
      '/v1/backtests/:runId/trades',
      {
        schema: {
          summary: "A backtest run's round trips, by closing time (status=open: the open ones)",
          tags: ['backtests'],
          params: { type: 'object', required: ['runId'], properties: { runId: RUN_ID } },
          querystring: {
            type: 'object',
            additionalProperties: false,
            properties: {
              ...TRADE_FILTERS_WITHOUT_ACCOUNT,
              limit: { type: 'integer', minimum: 1, maximum: 1_000, default: 100 },
              cursor: { type: 'string', maxLength: 2_000 },
            },
          },
          response: { 200: pageSchema(tradeSchema), ...problemResponses(400, 404, 503) },
        },
      },
      async (request, reply): Promise<Page<TradeItem>> => {
        const run = await findRun(deps, request.params.runId);
        const query = request.query;
        const limit = query.limit ?? 100;
        const scope = scopeOf(`/v1/backtests/${run.runId}/trades`, query as Record<string, unknown>);
        const after = query.cursor ? decodeCursor(query.cursor, scope, keyShapes.timeTextText) : null;
        const rows = await selectTrades(deps, { ...query, account: run.account }, after, limit + 1);
        const more = rows.length > limit;
        const data = more ? rows.slice(0, limit) : rows;
        const cursor = more ? encodeCursor(scope, tradeKey(data.at(-1)!)) : null;
        const q = request.url.indexOf('?');
        const path = q < 0 ? request.url : request.url.slice(0, q);
        const next = cursor ? nextLink(path, q < 0 ? '' : request.url.slice(q + 1), cursor) : null;
        if (next) reply.header('link', `<${next}>; rel="next"`);
        return { data, page: { limit, cursor, next } };
      },
    );
  },
};
