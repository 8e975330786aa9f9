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

/** Signals of the strategies (the `signals` projection), with their indicators and parameters. */

interface SignalsQuery {
  account?: string;
  strategy?: string;
  symbol?: string;
  direction?: 'long' | 'exit';
  from?: string;
  to?: string;
}

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
    listRoute<SignalsQuery, Record<string, unknown>, readonly [number, number]>(app, deps, 'signals', {
      url: '/v1/signals',
      summary: 'Signals in time order',
      filters: {
        account: ACCOUNT,
        strategy: STRATEGY,
        symbol: SYMBOL,
        direction: { type: 'string', enum: ['long', 'exit'] },
        from: FROM,
        to: TO,
      },
      item: signalSchema,
      isKey: keyShapes.timePosition,
      keyOf: (s) => [s.time as number, s.position as number],
      async fetch({ database }, q, { after, limit }) {
        const range = timeRange(q);
        const { rows } = await sql<Record<string, unknown>>`
          select * from readmodel.signals
          where true ${eq('account', q.account)} ${eq('strategy', q.strategy)} ${eq('symbol', q.symbol)}
            ${eq('direction', q.direction)} ${inRange('time', range)}
            ${afterTimePosition('time', 'event_position', after)}
          order by time, event_position limit ${limit}`.execute(database.db);
        return rows.map((r) => ({
          account: r.account,
          time: toMs(r.time),
          strategy: r.strategy,
          strategyVersion: r.strategy_version,
          symbol: r.symbol,
          timeframe: r.timeframe,
          direction: r.direction,
          confidence: r.confidence,
          price: r.price,
          candleOpenTime: toMs(r.candle_open_time),
          indicators: r.indicators,
          params: r.params,
          expectedReturn: r.expected_return,
          horizonMs: toNum(r.horizon_ms),
          id: r.event_id,
          position: toNum(r.event_position),
        }));
      },
    });
  },
};
