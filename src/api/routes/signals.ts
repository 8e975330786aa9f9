import { eventTableRoute } from '../event-table-route.js';
import type { ApiModule } from '../module.js';
import { SYMBOL } from '../schemas.js';
import { ACCOUNT, anyJson, int, ms, num, numOrNull, object, STRATEGY, str } from './read-models.js';

/** Signals of the strategies (the `signals` projection), with their indicators and parameters. */

const signalSchema = object({
  account: str,
  time: { ...ms, description: 'the close of the candle it was computed on' },
  strategy: str,
  strategyVersion: str,
  symbol: str,
  timeframe: str,
  direction: { type: 'string', enum: ['long', 'exit'] },
  confidence: num,
  price: num,
  candleOpenTime: ms,
  indicators: { ...anyJson, description: 'the indicator values the rule compared' },
  params: { ...anyJson, description: "the strategy's parameters" },
  expectedReturn: numOrNull,
  horizonMs: numOrNull,
  id: str,
  position: { ...int, description: 'global position of the SignalEmitted event' },
});

export const signalsModule: ApiModule = {
  name: 'signals',
  tag: { name: 'signals', description: 'Strategy signals (the `signals` projection).' },
  register(app, deps) {
    eventTableRoute(app, deps, 'signals', {
      url: '/v1/signals',
      summary: 'Signals in time order',
      table: 'readmodel.signals',
      filters: {
        account: ACCOUNT,
        strategy: STRATEGY,
        symbol: SYMBOL,
        direction: { type: 'string', enum: ['long', 'exit'] },
      },
      item: signalSchema,
      times: ['candleOpenTime'],
    });
  },
};
