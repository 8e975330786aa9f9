import { type RawBuilder, sql } from 'kysely';
import { listRoute } from '../list-route.js';
import type { ApiDeps, ApiModule } from '../module.js';
import { notFound, problemResponses } from '../problem.js';
import {
  ACCOUNT,
  eq,
  int,
  keyShapes,
  msOrNull,
  numOrNull,
  object,
  str,
  strOrNull,
  toMs,
  toNum,
} from './read-models.js';

/**
 * Accounts (the `accounts` and `equity` projections): mode, run, markets, trading state and the
 * latest equity mark. State: `kill-switch`, `paused`, `halted` (a drawdown or loss limit, while
 * it lasts in event time), `completed` (a backtest whose run completed) or `trading`.
 */

export const ACCOUNT_STATES = ['trading', 'paused', 'halted', 'kill-switch', 'completed'] as const;

const accountSchema = object({
  account: str,
  mode: strOrNull,
  runId: strOrNull,
  exchange: strOrNull,
  timeframe: strOrNull,
  symbols: { type: ['array', 'null'], items: str },
  state: { type: 'string', enum: [...ACCOUNT_STATES] },
  paused: { type: 'boolean' },
  killSwitch: { type: 'boolean' },
  halt: {
    type: ['object', 'null'],
    description: 'the last halt, while it lasts',
    properties: {
      rule: str,
      reason: str,
      at: msOrNull,
      until: { ...msOrNull, description: 'new entries resume then; null: when the owner resumes' },
    },
  },
  initialCash: numOrNull,
  equity: numOrNull,
  cash: numOrNull,
  positionsValue: numOrNull,
  peakEquity: numOrNull,
  drawdown: numOrNull,
  markedAt: { ...msOrNull, description: 'time of the latest equity mark' },
  openPositions: int,
  lastControl: {
    type: ['object', 'null'],
    properties: { type: str, at: msOrNull, actor: strOrNull, reason: strOrNull },
  },
  lastEventAt: msOrNull,
});

interface AccountRow {
  account: string;
  mode: string | null;
  run_id: string | null;
  exchange: string | null;
  timeframe: string | null;
  symbols: string[] | null;
  state: string;
  paused: boolean;
  kill_switch: boolean;
  halted_rule: string | null;
  halted_reason: string | null;
  halted_at: unknown;
  halted_until: unknown;
  halt_active: boolean;
  initial_cash: number | null;
  equity: number | null;
  cash: number | null;
  positions_value: number | null;
  peak: number | null;
  drawdown: number | null;
  marked_at: unknown;
  open_positions: unknown;
  last_control: string | null;
  last_control_at: unknown;
  last_control_actor: string | null;
  last_control_reason: string | null;
  last_event_at: unknown;
}

async function selectAccounts(
  deps: ApiDeps,
  where: RawBuilder<unknown>,
  limit: number,
): Promise<ReturnType<typeof toItem>[]> {
  const { rows } = await sql<AccountRow>`
    select a.*, e.equity, e.cash, e.positions_value, e.peak, e.drawdown, e.time as marked_at,
      coalesce(p.n, 0) as open_positions,
      (a.halted_rule is not null and (a.halted_until_resumed
        or a.halted_until > coalesce(e.time, a.last_event_at))) as halt_active,
      case
        when a.kill_switch then 'kill-switch'
        when a.paused then 'paused'
        when a.halted_rule is not null and (a.halted_until_resumed
          or a.halted_until > coalesce(e.time, a.last_event_at)) then 'halted'
        when a.mode = 'backtest' and r.completed_at is not null then 'completed'
        else 'trading' end as state
    from readmodel.accounts a
    left join readmodel.runs r on r.run_id = a.run_id
    left join lateral (
      select time, equity, cash, positions_value, peak, drawdown from readmodel.equity e
      where e.account = a.account order by time desc limit 1) e on true
    left join lateral (
      select count(*) as n from readmodel.positions p where p.account = a.account) p on true
    where true ${where}
    order by a.account
    limit ${limit}`.execute(deps.database.db);
  return rows.map(toItem);
}

function toItem(r: AccountRow) {
  return {
    account: r.account,
    mode: r.mode,
    runId: r.run_id,
    exchange: r.exchange,
    timeframe: r.timeframe,
    symbols: r.symbols,
    state: r.state,
    paused: r.paused,
    killSwitch: r.kill_switch,
    halt: r.halt_active
      ? { rule: r.halted_rule, reason: r.halted_reason, at: toMs(r.halted_at), until: toMs(r.halted_until) }
      : null,
    initialCash: r.initial_cash,
    equity: r.equity,
    cash: r.cash,
    positionsValue: r.positions_value,
    peakEquity: r.peak,
    drawdown: r.drawdown,
    markedAt: toMs(r.marked_at),
    openPositions: toNum(r.open_positions) ?? 0,
    lastControl:
      r.last_control === null
        ? null
        : {
            type: r.last_control,
            at: toMs(r.last_control_at),
            actor: r.last_control_actor,
            reason: r.last_control_reason,
          },
    lastEventAt: toMs(r.last_event_at),
  };
}

export const accountsModule: ApiModule = {
  name: 'accounts',
  tag: {
    name: 'accounts',
    description:
      'Accounts: run, markets, trading state and latest equity (the `accounts` and `equity` projections).',
  },
  register(app, deps) {
    listRoute<{ mode?: string }, ReturnType<typeof toItem>, readonly [string]>(app, deps, 'accounts', {
      url: '/v1/accounts',
      summary: 'Accounts, by id: state, run, latest equity',
      filters: { mode: { type: 'string', enum: ['backtest', 'paper', 'live'] } },
      item: accountSchema,
      isKey: keyShapes.text,
      keyOf: (a) => [a.account],
      fetch: (d, q, { after, limit }) =>
        selectAccounts(
          d,
          sql`${eq('a.mode', q.mode)} ${after === null ? sql`` : sql`and a.account > ${after[0]}`}`,
          limit,
        ),
    });

    app.get<{ Params: { account: string } }>(
      '/v1/accounts/:account',
      {
        schema: {
          summary: 'One account: state, run, latest equity, open positions',
          tags: ['accounts'],
          params: { type: 'object', required: ['account'], properties: { account: ACCOUNT } },
          response: { 200: accountSchema, ...problemResponses(400, 404, 503) },
        },
      },
      async (request) => {
        const [account] = await selectAccounts(deps, sql`and a.account = ${request.params.account}`, 1);
        if (!account) throw notFound(`no account ${request.params.account}: /v1/accounts lists them`);
        return account;
      },
    );
  },
};
