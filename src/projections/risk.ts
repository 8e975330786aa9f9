import { sql } from 'kysely';
import type { RecordedEvent } from '../domain/events/envelope.js';
import type { RiskDecisionMadeData, TradingHaltedData } from '../domain/risk/events.js';
import type { Projector } from './projector.js';
import { type Columns, insertRows, need, unknownEvent } from './rows.js';

/**
 * Every risk decision, with the rule that decided and its numbers (`rule_value` against
 * `rule_limit`), the portfolio numbers the rules used (equity, heat, drawdown, exposure) as
 * columns, and every check as JSON; and every trading halt.
 */

const DECISION_COLUMNS = {
  account: 'text',
  time: 'ms',
  strategy: 'text',
  strategy_version: 'text',
  symbol: 'text',
  direction: 'text',
  outcome: 'text',
  rule: 'text',
  reason: 'text',
  risk_version: 'text',
  requested_quantity: 'float8',
  final_quantity: 'float8',
  price: 'float8',
  stop_price: 'float8',
  take_profit_price: 'float8',
  rule_outcome: 'text',
  rule_value: 'float8',
  rule_limit: 'float8',
  equity: 'float8',
  heat: 'float8',
  drawdown: 'float8',
  asset_exposure: 'float8',
  open_positions: 'float8',
  numbers: 'jsonb',
  checks: 'jsonb',
  signal_id: 'uuid',
  event_id: 'uuid',
  event_position: 'int8',
} as const satisfies Columns;

const HALT_COLUMNS = {
  account: 'text',
  time: 'ms',
  rule: 'text',
  reason: 'text',
  equity: 'float8',
  reference_equity: 'float8',
  loss: 'float8',
  loss_limit: 'float8',
  until: 'ms',
  event_id: 'uuid',
  event_position: 'int8',
} as const satisfies Columns;

function decisionRow(event: RecordedEvent) {
  const d = event.data as RiskDecisionMadeData;
  const checks = need(event, d?.checks, 'checks');
  // the deciding check: the rule named by the decision (the last check of that rule)
  const deciding = [...checks].reverse().find((c) => c.rule === d.rule) ?? null;
  const n = d.numbers ?? {};
  return {
    account: need(event, d.account, 'account'),
    time: event.metadata.occurredAt,
    strategy: d.strategy,
    strategy_version: d.strategyVersion,
    symbol: d.symbol,
    direction: d.direction,
    outcome: need(event, d.outcome, 'outcome'),
    rule: need(event, d.rule, 'rule'),
    reason: d.reason,
    risk_version: d.riskVersion,
    requested_quantity: d.requestedQuantity,
    final_quantity: d.finalQuantity,
    price: d.price,
    stop_price: d.stopPrice,
    take_profit_price: d.takeProfitPrice,
    rule_outcome: deciding?.outcome ?? null,
    rule_value: deciding?.value ?? null,
    rule_limit: deciding?.limit ?? null,
    equity: n.equity ?? null,
    heat: n.heat ?? null,
    drawdown: n.drawdown ?? null,
    asset_exposure: n.assetExposure ?? null,
    open_positions: n.openPositions ?? null,
    numbers: n,
    checks,
    signal_id: event.metadata.causationId,
    event_id: event.id,
    event_position: event.position,
  };
}

function haltRow(event: RecordedEvent) {
  const d = event.data as TradingHaltedData;
  return {
    account: need(event, d?.account, 'account'),
    time: event.metadata.occurredAt,
    rule: d.rule,
    reason: d.reason,
    equity: d.equity,
    reference_equity: d.referenceEquity,
    loss: d.loss,
    loss_limit: d.limit,
    until: d.until,
    event_id: event.id,
    event_position: event.position,
  };
}

export const riskProjector: Projector = {
  name: 'risk',
  version: 1,
  handles: ['RiskDecisionMade', 'TradingHalted'],
  migrations: [
    {
      version: 1,
      name: 'risk decisions and trading halts',
      up: [
        `create table readmodel.risk_decisions (
          account text not null,
          time timestamptz not null,
          strategy text not null,
          strategy_version text not null,
          symbol text not null,
          direction text not null,
          outcome text not null,
          rule text not null,
          reason text not null,
          risk_version text not null,
          requested_quantity double precision not null,
          final_quantity double precision not null,
          price double precision not null,
          stop_price double precision,
          take_profit_price double precision,
          rule_outcome text,
          rule_value double precision,
          rule_limit double precision,
          equity double precision,
          heat double precision,
          drawdown double precision,
          asset_exposure double precision,
          open_positions double precision,
          numbers jsonb not null,
          checks jsonb not null,
          signal_id uuid,
          event_id uuid not null,
          event_position bigint not null,
          primary key (account, time, event_position)
        )`,
        'create index risk_decisions_by_time on readmodel.risk_decisions (time, event_position)',
        'create index risk_decisions_by_signal on readmodel.risk_decisions (signal_id)',
        `create table readmodel.trading_halts (
          account text not null,
          time timestamptz not null,
          rule text not null,
          reason text not null,
          equity double precision not null,
          reference_equity double precision not null,
          loss double precision not null,
          loss_limit double precision not null,
          until timestamptz,
          event_id uuid not null,
          event_position bigint not null,
          primary key (account, time, event_position)
        )`,
      ],
    },
  ],
  timeSeries: { hypertables: [{ table: 'readmodel.risk_decisions', timeColumn: 'time', chunk: '30 days' }] },

  async reset(tx) {
    await sql`truncate readmodel.risk_decisions, readmodel.trading_halts`.execute(tx);
  },

  async apply(tx, events) {
    const decisions: object[] = [];
    const halts: object[] = [];
    for (const event of events) {
      if (event.type === 'RiskDecisionMade') decisions.push(decisionRow(event));
      else if (event.type === 'TradingHalted') halts.push(haltRow(event));
      else throw unknownEvent('risk', event);
    }
    await insertRows(tx, 'readmodel.risk_decisions', DECISION_COLUMNS, decisions);
    await insertRows(tx, 'readmodel.trading_halts', HALT_COLUMNS, halts);
  },
};
