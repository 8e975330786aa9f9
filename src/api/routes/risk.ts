import { sql } from 'kysely';
import { listRoute } from '../list-route.js';
import type { ApiModule } from '../module.js';
import { SYMBOL } from '../schemas.js';
import {
  ACCOUNT,
  afterTimePosition,
  anyJson,
  eq,
  FROM,
  inRange,
  int,
  keyShapes,
  ms,
  msOrNull,
  num,
  numOrNull,
  object,
  STRATEGY,
  str,
  strOrNull,
  TO,
  timeRange,
  toMs,
  toNum,
} from './read-models.js';

/** Risk decisions with the deciding rule and its numbers, and trading halts (the `risk` projection). */

interface RiskQuery {
  account?: string;
  strategy?: string;
  symbol?: string;
  outcome?: string;
  rule?: string;
  direction?: string;
  from?: string;
  to?: string;
}

const decisionSchema = object({
  account: str,
  time: ms,
  strategy: str,
  symbol: str,
  direction: str,
  outcome: { type: 'string', enum: ['approved', 'resized', 'rejected'] },
  rule: {
    ...str,
    description: 'the rule that decided: the one that rejected, capped the quantity last, or sizing',
  },
  reason: str,
  ruleValue: { ...numOrNull, description: 'what the deciding rule measured' },
  ruleLimit: { ...numOrNull, description: 'its limit' },
  riskVersion: str,
  requestedQuantity: num,
  finalQuantity: num,
  price: num,
  stopPrice: numOrNull,
  takeProfitPrice: numOrNull,
  equity: numOrNull,
  heat: { ...numOrNull, description: 'open risk to the stops before this entry, quote currency' },
  drawdown: numOrNull,
  numbers: { ...anyJson, description: 'every number the rules used' },
  checks: {
    ...anyJson,
    description: 'each rule in the order evaluated: rule, outcome, value, limit, maxQuantity',
  },
  signalId: strOrNull,
  id: str,
  position: int,
});

const haltSchema = object({
  account: str,
  time: ms,
  rule: str,
  reason: str,
  equity: num,
  referenceEquity: num,
  loss: num,
  limit: num,
  until: { ...msOrNull, description: 'new entries resume then; null: when the owner resumes trading' },
  position: int,
});

export const riskModule: ApiModule = {
  name: 'risk',
  tag: { name: 'risk', description: 'Risk decisions and trading halts (the `risk` projection).' },
  register(app, deps) {
    listRoute<RiskQuery, Record<string, unknown>, readonly [number, number]>(app, deps, 'risk', {
      url: '/v1/risk-decisions',
      summary: 'Risk decisions in time order, with the deciding rule, its numbers and every check',
      filters: {
        account: ACCOUNT,
        strategy: STRATEGY,
        symbol: SYMBOL,
        outcome: { type: 'string', enum: ['approved', 'resized', 'rejected'] },
        rule: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9_.:-]{0,49}$' },
        direction: { type: 'string', enum: ['long', 'exit'] },
        from: FROM,
        to: TO,
      },
      item: decisionSchema,
      isKey: keyShapes.timePosition,
      keyOf: (d) => [d.time as number, d.position as number],
      async fetch({ database }, q, { after, limit }) {
        const range = timeRange(q);
        const { rows } = await sql<Record<string, unknown>>`
          select * from readmodel.risk_decisions
          where true ${eq('account', q.account)} ${eq('strategy', q.strategy)} ${eq('symbol', q.symbol)}
            ${eq('outcome', q.outcome)} ${eq('rule', q.rule)} ${eq('direction', q.direction)}
            ${inRange('time', range)} ${afterTimePosition('time', 'event_position', after)}
          order by time, event_position limit ${limit}`.execute(database.db);
        return rows.map((r) => ({
          account: r.account,
          time: toMs(r.time),
          strategy: r.strategy,
          symbol: r.symbol,
          direction: r.direction,
          outcome: r.outcome,
          rule: r.rule,
          reason: r.reason,
          ruleValue: r.rule_value,
          ruleLimit: r.rule_limit,
          riskVersion: r.risk_version,
          requestedQuantity: r.requested_quantity,
          finalQuantity: r.final_quantity,
          price: r.price,
          stopPrice: r.stop_price,
          takeProfitPrice: r.take_profit_price,
          equity: r.equity,
          heat: r.heat,
          drawdown: r.drawdown,
          numbers: r.numbers,
          checks: r.checks,
          signalId: r.signal_id,
          id: r.event_id,
          position: toNum(r.event_position),
        }));
      },
    });

    listRoute<
      { account?: string; from?: string; to?: string },
      Record<string, unknown>,
      readonly [number, number]
    >(app, deps, 'risk', {
      url: '/v1/trading-halts',
      summary: 'Trading halts (drawdown and loss limits) in time order',
      filters: { account: ACCOUNT, from: FROM, to: TO },
      item: haltSchema,
      isKey: keyShapes.timePosition,
      keyOf: (h) => [h.time as number, h.position as number],
      async fetch({ database }, q, { after, limit }) {
        const range = timeRange(q);
        const { rows } = await sql<Record<string, unknown>>`
            select * from readmodel.trading_halts
            where true ${eq('account', q.account)} ${inRange('time', range)}
              ${afterTimePosition('time', 'event_position', after)}
            order by time, event_position limit ${limit}`.execute(database.db);
        return rows.map((r) => ({
          account: r.account,
          time: toMs(r.time),
          rule: r.rule,
          reason: r.reason,
          equity: r.equity,
          referenceEquity: r.reference_equity,
          loss: r.loss,
          limit: r.loss_limit,
          until: toMs(r.until),
          position: toNum(r.event_position),
        }));
      },
    });
  },
};
