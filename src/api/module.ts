import type { FastifyInstance } from 'fastify';
import type { TradekernelMetrics } from '../adapters/metrics/metrics.js';
import type { SqlDatabase } from '../adapters/sql/database.js';
import type { EventCatalogue } from '../domain/events/catalogue.js';
import type { EventStore } from '../domain/ports/event-store.js';
import type { ProjectionRunner } from '../projections/index.js';
import type { Guard } from './auth.js';
import type { ProjectionWorker } from './projection-worker.js';

/** What route modules get: the ports and the API's configuration, nothing global. */
export interface ApiDeps {
  store: EventStore;
  /** the SQL database of the read models */
  database: SqlDatabase;
  catalogue: EventCatalogue;
  projections: ProjectionRunner;
  /** the background projection loop, when this process runs one (serve does) */
  worker: ProjectionWorker | undefined;
  metrics: TradekernelMetrics;
  /** bearer-token check for control endpoints (403 when no token is configured) */
  guard: Guard;
  /** /health/ready fails when a projection lags more events than this */
  maxLag: number;
  /** wall clock, epoch ms (control events' occurredAt) */
  clock: () => number;
  version: string;
}

/**
 * One group of routes: a tag in the OpenAPI document and a register function. A new read model
 * (orders, positions, trades, equity, ...) is one file exporting one of these, built with
 * listRoute(), added to `apiModules` in routes/index.ts.
 */
export interface ApiModule {
  name: string;
  tag: { name: string; description: string };
  register(app: FastifyInstance, deps: ApiDeps): void | Promise<void>;
}
