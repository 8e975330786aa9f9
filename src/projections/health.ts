import { sql } from 'kysely';
import type { RecordedEvent } from '../domain/events/envelope.js';
import type { CandleClosedData } from '../domain/market/events.js';
import type { FailureData, ServiceStartedData } from '../domain/operations/events.js';
import type { Projector } from './projector.js';
import { type Columns, insertRows, need, unknownEvent } from './rows.js';

/**
 * System health from the log: data collection (candles arriving, per market and hour of their
 * recording; collection failures), exchange errors with their latency when recorded, and
 * service starts (restarts). The view `readmodel.collection_hourly` gives, per hour, the
 * candles collected, the failures, the exchange errors and the success rate
 * candles / (candles + failures). Request latency and uptime of the running process are
 * Prometheus metrics (docs/api.md), not events.
 */

const HOUR = 3_600_000;

const EVENT_COLUMNS = {
  time: 'ms',
  recorded_at: 'ms',
  kind: 'text',
  source: 'text',
  operation: 'text',
  error: 'text',
  attempt: 'int4',
  latency_ms: 'float8',
  service: 'text',
  version: 'text',
  host: 'text',
  pid: 'int4',
  stream: 'text',
  event_id: 'uuid',
  event_position: 'int8',
} as const satisfies Columns;

const ARRIVAL_COLUMNS = {
  exchange: 'text',
  symbol: 'text',
  timeframe: 'text',
  bucket: 'ms',
  candles: 'int8',
  last_open_time: 'ms',
  last_recorded_at: 'ms',
} as const satisfies Columns;

const KIND: Record<string, string> = {
  ServiceStarted: 'service-started',
  DataCollectionFailed: 'data-collection-failed',
  ExchangeErrorObserved: 'exchange-error',
};

function healthRow(event: RecordedEvent) {
  const base = {
    time: event.metadata.occurredAt,
    recorded_at: event.metadata.recordedAt,
    kind: KIND[event.type]!,
    source: null as string | null,
    operation: null as string | null,
    error: null as string | null,
    attempt: null as number | null,
    latency_ms: null as number | null,
    service: null as string | null,
    version: null as string | null,
    host: null as string | null,
    pid: null as number | null,
    stream: event.stream,
    event_id: event.id,
    event_position: event.position,
  };
  if (event.type === 'ServiceStarted') {
    const d = event.data as ServiceStartedData;
    return {
      ...base,
      service: need(event, d?.service, 'service'),
      version: d.version,
      host: d.host,
      pid: d.pid,
    };
  }
  const d = event.data as FailureData;
  return {
    ...base,
    source: need(event, d?.source, 'source'),
    operation: d.operation,
    error: d.error,
    attempt: d.attempt,
    latency_ms: d.latencyMs ?? null,
  };
}

export const healthProjector: Projector = {
  name: 'health',
  version: 1,
  handles: ['ServiceStarted', 'DataCollectionFailed', 'ExchangeErrorObserved', 'CandleClosed'],
  migrations: [
    {
      version: 1,
      name: 'system health: operations events and candle arrivals',
      up: [
        `create table readmodel.health_events (
          time timestamptz not null,
          recorded_at timestamptz not null,
          kind text not null,
          source text,
          operation text,
          error text,
          attempt integer,
          latency_ms double precision,
          service text,
          version text,
          host text,
          pid integer,
          stream text not null,
          event_id uuid not null,
          event_position bigint not null,
          primary key (event_position, time)
        )`,
        'create index health_events_by_kind on readmodel.health_events (kind, time)',
        `create table readmodel.candle_arrivals (
          exchange text not null,
          symbol text not null,
          timeframe text not null,
          bucket timestamptz not null,
          candles bigint not null,
          last_open_time timestamptz not null,
          last_recorded_at timestamptz not null,
          primary key (exchange, symbol, timeframe, bucket)
        )`,
        'create index candle_arrivals_by_bucket on readmodel.candle_arrivals (bucket)',
      ],
    },
  ],
  timeSeries: {
    hypertables: [
      { table: 'readmodel.health_events', timeColumn: 'time', chunk: '30 days' },
      { table: 'readmodel.candle_arrivals', timeColumn: 'bucket', chunk: '90 days' },
    ],
    views: [
      {
        name: 'readmodel.collection_hourly',
        sql: `with arrivals as (
            select bucket, sum(candles) as candles, count(*) as markets
            from readmodel.candle_arrivals group by bucket
          ), problems as (
            select date_trunc('hour', recorded_at, 'UTC') as bucket,
              count(*) filter (where kind = 'data-collection-failed') as failures,
              count(*) filter (where kind = 'exchange-error') as exchange_errors,
              count(*) filter (where kind = 'service-started') as starts,
              avg(latency_ms) as average_latency_ms,
              max(latency_ms) as max_latency_ms
            from readmodel.health_events group by 1
          )
          select coalesce(a.bucket, p.bucket) as bucket,
            coalesce(a.candles, 0) as candles, coalesce(a.markets, 0) as markets,
            coalesce(p.failures, 0) as failures, coalesce(p.exchange_errors, 0) as exchange_errors,
            coalesce(p.starts, 0) as starts, p.average_latency_ms, p.max_latency_ms,
            case when coalesce(a.candles, 0) + coalesce(p.failures, 0) > 0
              then coalesce(a.candles, 0)::float8 / (coalesce(a.candles, 0) + coalesce(p.failures, 0)) end
              as success_rate
          from arrivals a full join problems p on p.bucket = a.bucket`,
      },
    ],
  },

  async reset(tx) {
    await sql`truncate readmodel.health_events, readmodel.candle_arrivals`.execute(tx);
  },

  async apply(tx, events) {
    const rows: object[] = [];
    const arrivals = new Map<
      string,
      {
        exchange: string;
        symbol: string;
        timeframe: string;
        bucket: number;
        candles: number;
        last_open_time: number;
        last_recorded_at: number;
      }
    >();
    for (const event of events) {
      if (event.type === 'CandleClosed') {
        const c = event.data as CandleClosedData;
        need(event, c?.openTime, 'openTime');
        const bucket = Math.floor(event.metadata.recordedAt / HOUR) * HOUR;
        const key = `${c.exchange}|${c.symbol}|${c.timeframe}|${bucket}`;
        const a = arrivals.get(key);
        if (a) {
          a.candles++;
          a.last_open_time = Math.max(a.last_open_time, c.openTime);
          a.last_recorded_at = Math.max(a.last_recorded_at, event.metadata.recordedAt);
        } else {
          arrivals.set(key, {
            exchange: c.exchange,
            symbol: c.symbol,
            timeframe: c.timeframe,
            bucket,
            candles: 1,
            last_open_time: c.openTime,
            last_recorded_at: event.metadata.recordedAt,
          });
        }
      } else if (KIND[event.type]) {
        rows.push(healthRow(event));
      } else {
        throw unknownEvent('health', event);
      }
    }
    await insertRows(tx, 'readmodel.health_events', EVENT_COLUMNS, rows);
    await insertRows(
      tx,
      'readmodel.candle_arrivals',
      ARRIVAL_COLUMNS,
      [...arrivals.values()],
      `on conflict (exchange, symbol, timeframe, bucket) do update set
        candles = candle_arrivals.candles + excluded.candles,
        last_open_time = greatest(candle_arrivals.last_open_time, excluded.last_open_time),
        last_recorded_at = greatest(candle_arrivals.last_recorded_at, excluded.last_recorded_at)`,
    );
  },
};
