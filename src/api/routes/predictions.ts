import { sql } from 'kysely';
import { listRoute } from '../list-route.js';
import type { ApiModule } from '../module.js';
import { SYMBOL } from '../schemas.js';
import {
  ACCOUNT,
  afterTimePosition,
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
  TO,
  timeRange,
  toMs,
  toNum,
} from './read-models.js';

/**
 * Predictions against outcomes (the `predictions` projection): signals that forecast a return
 * over a horizon, and the return the market gave. Empty until a forecasting strategy runs (the
 * built-in ones do not forecast).
 */

interface PredictionsQuery {
  account?: string;
  strategy?: string;
  symbol?: string;
  from?: string;
  to?: string;
}

const predictionSchema = object({
  account: str,
  time: ms,
  strategy: str,
  symbol: str,
  direction: str,
  confidence: num,
  price: num,
  predictedReturn: num,
  horizonMs: numOrNull,
  dueAt: msOrNull,
  actualReturn: {
    ...numOrNull,
    description: 'close at the horizon / price - 1; null until that candle is in',
  },
  resolvedAt: msOrNull,
  directionHit: { type: ['boolean', 'null'], description: 'same sign as predicted' },
  position: int,
});

export const predictionsModule: ApiModule = {
  name: 'predictions',
  tag: {
    name: 'predictions',
    description: 'Predicted against actual returns (the `predictions` projection).',
  },
  register(app, deps) {
    listRoute<PredictionsQuery, Record<string, unknown>, readonly [number, number]>(
      app,
      deps,
      'predictions',
      {
        url: '/v1/predictions',
        summary: 'Predictions in time order, with the actual return once the horizon has passed',
        filters: { account: ACCOUNT, strategy: STRATEGY, symbol: SYMBOL, from: FROM, to: TO },
        item: predictionSchema,
        isKey: keyShapes.timePosition,
        keyOf: (p) => [p.time as number, p.position as number],
        async fetch({ database }, q, { after, limit }) {
          const range = timeRange(q);
          const { rows } = await sql<Record<string, unknown>>`
          select * from readmodel.prediction_outcomes
          where true ${eq('account', q.account)} ${eq('strategy', q.strategy)} ${eq('symbol', q.symbol)}
            ${inRange('time', range)} ${afterTimePosition('time', 'event_position', after)}
          order by time, event_position limit ${limit}`.execute(database.db);
          return rows.map((r) => ({
            account: r.account,
            time: toMs(r.time),
            strategy: r.strategy,
            symbol: r.symbol,
            direction: r.direction,
            confidence: r.confidence,
            price: r.price,
            predictedReturn: r.predicted_return,
            horizonMs: toNum(r.horizon_ms),
            dueAt: toMs(r.due_at),
            actualReturn: r.actual_return,
            resolvedAt: toMs(r.resolved_at),
            directionHit: r.direction_hit,
            position: toNum(r.event_position),
          }));
        },
      },
    );
  },
};
