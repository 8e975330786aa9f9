import { eventTableRoute } from '../event-table-route.js';
import type { ApiModule } from '../module.js';
import { SYMBOL } from '../schemas.js';
import { ACCOUNT, int, ms, msOrNull, num, numOrNull, object, STRATEGY, str } from './read-models.js';

/**
 * Predictions against outcomes (the `predictions` projection): signals that forecast a return
 * over a horizon, and the return the market gave. Empty until a forecasting strategy runs (the
 * built-in ones do not forecast).
 */

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
    eventTableRoute(app, deps, 'predictions', {
      url: '/v1/predictions',
      summary: 'Predictions in time order, with the actual return once the horizon has passed',
      table: 'readmodel.prediction_outcomes',
      filters: { account: ACCOUNT, strategy: STRATEGY, symbol: SYMBOL },
      item: predictionSchema,
      times: ['dueAt', 'resolvedAt'],
    });
  },
};
