import { eventTableRoute } from '../event-table-route.js';
import type { ApiModule } from '../module.js';
import { SYMBOL } from '../schemas.js';
import {
  ACCOUNT,
  anyJson,
  int,
  ms,
  msOrNull,
  num,
  numOrNull,
  object,
  STRATEGY,
  str,
  strOrNull,
} from './read-models.js';

/** Risk decisions with the deciding rule and its numbers, and trading halts (the `risk` projection). */

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
    eventTableRoute(app, deps, 'risk', {
      url: '/v1/risk-decisions',
      summary: 'Risk decisions in time order, with the deciding rule, its numbers and every check',
      table: 'readmodel.risk_decisions',
      filters: {
        account: ACCOUNT,
        strategy: STRATEGY,
        symbol: SYMBOL,
        outcome: { type: 'string', enum: ['approved', 'resized', 'rejected'] },
        rule: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9_.:-]{0,49}$' },
        direction: { type: 'string', enum: ['long', 'exit'] },
      },
      item: decisionSchema,
    });

    eventTableRoute(app, deps, 'risk', {
      url: '/v1/trading-halts',
      summary: 'Trading halts (drawdown and loss limits) in time order',
      table: 'readmodel.trading_halts',
      filters: { account: ACCOUNT },
      item: haltSchema,
      columns: { limit: 'loss_limit' },
      times: ['until'],
    });
  },
};
