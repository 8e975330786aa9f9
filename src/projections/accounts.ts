import { sql } from 'kysely';
import type { ControlActionData } from '../domain/control/events.js';
import type { RecordedEvent } from '../domain/events/envelope.js';
import type { TradingHaltedData } from '../domain/risk/events.js';
import type { RunCompletedData, RunStartedData } from '../domain/runs/events.js';
import { ProjectionError, type Projector } from './projector.js';
import { type Columns, insertRows, loadRows, unknownEvent, upsert } from './rows.js';

/**
 * Runs and accounts: every run (backtest, paper, live) from its RunStarted and RunCompleted, and
 * every account's trading state from the control events and halts.
 */

const RUN_COLUMNS = {
  run_id: 'text',
  account: 'text',
  mode: 'text',
  exchange: 'text',
  timeframe: 'text',
  symbols: 'text[]',
  strategies: 'jsonb',
  range_from: 'ms',
  range_to: 'ms',
  settings: 'jsonb',
  initial_cash: 'float8',
  kernel_version: 'text',
  input_streams: 'jsonb',
  started_at: 'ms',
  started_position: 'int8',
  completed_at: 'ms',
  data_points: 'int8',
  decisions: 'int8',
  decision_hash: 'text',
  metrics: 'jsonb',
  completed_position: 'int8',
} as const satisfies Columns;

const ACCOUNT_COLUMNS = {
  account: 'text',
  mode: 'text',
  run_id: 'text',
  exchange: 'text',
  timeframe: 'text',
  symbols: 'text[]',
  range_from: 'ms',
  range_to: 'ms',
  initial_cash: 'float8',
  runs: 'int4',
  first_started_at: 'ms',
  last_started_at: 'ms',
  paused: 'bool',
  kill_switch: 'bool',
  liquidation_requested_at: 'ms',
  halted_rule: 'text',
  halted_reason: 'text',
  halted_at: 'ms',
  halted_until: 'ms',
  halted_until_resumed: 'bool',
  last_control: 'text',
  last_control_at: 'ms',
  last_control_actor: 'text',
  last_control_reason: 'text',
  last_event_at: 'ms',
  last_event_position: 'int8',
} as const satisfies Columns;

type Row<C extends Columns> = {
  -readonly [K in keyof C]: C[K] extends 'text' | 'uuid'
    ? string | null
    : C[K] extends 'bool'
      ? boolean
      : C[K] extends 'text[]'
        ? string[] | null
        : C[K] extends 'jsonb'
          ? unknown
          : number | null;
};
type RunRow = Row<typeof RUN_COLUMNS>;
type AccountRow = Row<typeof ACCOUNT_COLUMNS>;

/** The starting capital a run names in its settings (`initialCash`, or `capital`), or null. */
export function initialCashOf(settings: Record<string, unknown> | undefined): number | null {
  const value = settings?.initialCash ?? settings?.capital;
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : null;
}

function emptyAccount(account: string): AccountRow {
  const row = Object.fromEntries(Object.keys(ACCOUNT_COLUMNS).map((c) => [c, null])) as unknown as AccountRow;
  return { ...row, account, runs: 0, paused: false, kill_switch: false, halted_until_resumed: false };
}

const CONTROL = ['TradingPaused', 'TradingResumed', 'KillSwitchEngaged', 'LiquidationRequested'];

export const accountsProjector: Projector = {
  name: 'accounts',
  version: 1,
  handles: ['RunStarted', 'RunCompleted', ...CONTROL, 'TradingHalted'],
  migrations: [
    {
      version: 1,
      name: 'runs and accounts',
      up: [
        `create table readmodel.runs (
          run_id text primary key,
          account text not null,
          mode text not null,
          exchange text not null,
          timeframe text not null,
          symbols text[] not null,
          strategies jsonb not null,
          range_from timestamptz not null,
          range_to timestamptz,
          settings jsonb not null,
          initial_cash double precision,
          kernel_version text not null,
          input_streams jsonb not null,
          started_at timestamptz not null,
          started_position bigint not null,
          completed_at timestamptz,
          data_points bigint,
          decisions bigint,
          decision_hash text,
          metrics jsonb,
          completed_position bigint
        )`,
        'create index runs_by_start on readmodel.runs (started_at, run_id)',
        'create index runs_by_account on readmodel.runs (account, started_at)',
        `create table readmodel.accounts (
          account text primary key,
          mode text,
          run_id text,
          exchange text,
          timeframe text,
          symbols text[],
          range_from timestamptz,
          range_to timestamptz,
          initial_cash double precision,
          runs integer not null,
          first_started_at timestamptz,
          last_started_at timestamptz,
          paused boolean not null,
          kill_switch boolean not null,
          liquidation_requested_at timestamptz,
          halted_rule text,
          halted_reason text,
          halted_at timestamptz,
          halted_until timestamptz,
          halted_until_resumed boolean not null,
          last_control text,
          last_control_at timestamptz,
          last_control_actor text,
          last_control_reason text,
          last_event_at timestamptz,
          last_event_position bigint not null
        )`,
      ],
    },
  ],

  async reset(tx) {
    await sql`truncate readmodel.runs, readmodel.accounts`.execute(tx);
  },

  async apply(tx, events) {
    const accountIds = new Set<string>();
    const runIds = new Set<string>();
    for (const e of events) {
      if (e.type === 'RunCompleted') runIds.add((e.data as RunCompletedData).runId);
      else if (e.type === 'RunStarted') {
        accountIds.add((e.data as RunStartedData).account);
        runIds.add((e.data as RunStartedData).runId);
      } else accountIds.add((e.data as { account: string }).account);
    }
    const runs = new Map(
      (
        await loadRows<RunRow>(
          tx,
          'readmodel.runs',
          RUN_COLUMNS,
          { run_id: 'text' },
          [...runIds].map((run_id) => ({ run_id })),
        )
      ).map((r) => [r.run_id!, r]),
    );
    // a run completed in this batch belongs to an account that may not appear otherwise
    for (const run of runs.values()) accountIds.add(run.account!);
    const accounts = new Map(
      (
        await loadRows<AccountRow>(
          tx,
          'readmodel.accounts',
          ACCOUNT_COLUMNS,
          { account: 'text' },
          [...accountIds].map((account) => ({ account })),
        )
      ).map((r) => [r.account!, r]),
    );
    const touchedRuns = new Set<string>();
    const touchedAccounts = new Set<string>();
    const accountOf = (id: string) => {
      let row = accounts.get(id);
      if (!row) {
        row = emptyAccount(id);
        accounts.set(id, row);
      }
      touchedAccounts.add(id);
      return row;
    };
    for (const event of events) {
      const at = event.metadata.occurredAt;
      if (event.type === 'RunStarted') {
        const d = event.data as RunStartedData;
        if (runs.has(d.runId)) {
          throw new ProjectionError(`run ${d.runId} started twice (again at position ${event.position})`);
        }
        const initialCash = initialCashOf(d.settings);
        runs.set(d.runId, {
          run_id: d.runId,
          account: d.account,
          mode: d.mode,
          exchange: d.exchange,
          timeframe: d.timeframe,
          symbols: [...d.symbols],
          strategies: d.strategies,
          range_from: d.from,
          range_to: d.to ?? null,
          settings: d.settings,
          initial_cash: initialCash,
          kernel_version: d.kernelVersion,
          input_streams: d.inputStreams,
          started_at: at,
          started_position: event.position,
          completed_at: null,
          data_points: null,
          decisions: null,
          decision_hash: null,
          metrics: null,
          completed_position: null,
        });
        touchedRuns.add(d.runId);
        const a = accountOf(d.account);
        Object.assign(a, {
          mode: d.mode,
          run_id: d.runId,
          exchange: d.exchange,
          timeframe: d.timeframe,
          symbols: [...d.symbols],
          range_from: d.from,
          range_to: d.to ?? null,
          initial_cash: a.initial_cash ?? initialCash,
          runs: (a.runs ?? 0) + 1,
          first_started_at: a.first_started_at ?? at,
          last_started_at: at,
        });
        touch(a, event);
      } else if (event.type === 'RunCompleted') {
        const d = event.data as RunCompletedData;
        const run = runs.get(d.runId);
        if (!run)
          throw new ProjectionError(`RunCompleted at position ${event.position}: no run ${d.runId} started`);
        if (run.completed_at !== null) throw new ProjectionError(`run ${d.runId} completed twice`);
        Object.assign(run, {
          completed_at: at,
          data_points: d.dataPoints,
          decisions: d.decisions,
          decision_hash: d.decisionHash,
          metrics: d.metrics,
          completed_position: event.position,
        });
        touchedRuns.add(d.runId);
        touch(accountOf(run.account!), event);
      } else if (CONTROL.includes(event.type)) {
        const d = event.data as ControlActionData;
        const a = accountOf(d.account);
        if (event.type === 'TradingPaused') a.paused = true;
        else if (event.type === 'KillSwitchEngaged') a.kill_switch = true;
        else if (event.type === 'LiquidationRequested') {
          a.paused = true;
          a.liquidation_requested_at = at;
        } else {
          // the kernel: a resume lifts the pause, the kill switch and every halt
          Object.assign(a, {
            paused: false,
            kill_switch: false,
            liquidation_requested_at: null,
            halted_rule: null,
            halted_reason: null,
            halted_at: null,
            halted_until: null,
            halted_until_resumed: false,
          });
        }
        Object.assign(a, {
          last_control: event.type,
          last_control_at: at,
          last_control_actor: d.actor,
          last_control_reason: d.reason,
        });
        touch(a, event);
      } else if (event.type === 'TradingHalted') {
        const d = event.data as TradingHaltedData;
        const a = accountOf(d.account);
        Object.assign(a, {
          halted_rule: d.rule,
          halted_reason: d.reason,
          halted_at: at,
          halted_until:
            d.until === null
              ? a.halted_until
              : Math.max(d.until, (a.halted_until as number | null) ?? d.until),
          halted_until_resumed: a.halted_until_resumed || d.until === null,
        });
        touch(a, event);
      } else {
        throw unknownEvent('accounts', event);
      }
    }
    await insertRows(
      tx,
      'readmodel.runs',
      RUN_COLUMNS,
      [...touchedRuns].map((id) => runs.get(id)!),
      upsert(['run_id'], RUN_COLUMNS),
    );
    await insertRows(
      tx,
      'readmodel.accounts',
      ACCOUNT_COLUMNS,
      [...touchedAccounts].map((id) => accounts.get(id)!),
      upsert(['account'], ACCOUNT_COLUMNS),
    );
  },
};

function touch(a: AccountRow, event: RecordedEvent): void {
  a.last_event_at = event.metadata.occurredAt;
  a.last_event_position = event.position;
}
