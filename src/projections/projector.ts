import type { Transaction } from 'kysely';
import type { Migration } from '../adapters/sql/migrations.js';
import type { RecordedEvent } from '../domain/events/envelope.js';
import type { TimeSeriesSpec } from './timeseries.js';

// biome-ignore lint/suspicious/noExplicitAny: read-model tables are written with kysely's sql tag
export type ProjectionTx = Transaction<any>;

/**
 * A read model: a set of tables in the `readmodel` schema kept up to date from the event log.
 * The runner feeds it batches of the event types it handles, in global order, inside one
 * transaction that also moves its checkpoint, so a crash never applies a batch twice or loses it.
 */
export interface Projector {
  /** Stable name: the checkpoint key and the CLI name (`projections rebuild candles`). */
  readonly name: string;
  /** Bump when apply() changes meaning: the runner then rebuilds the projection from zero. */
  readonly version: number;
  /** Event types it reads; the runner asks the store for exactly these. */
  readonly handles: readonly string[];
  /** Its tables; applied once, in order (component `readmodel.<name>`). */
  readonly migrations: readonly Migration[];
  /**
   * What TimescaleDB makes of its tables (hypertables, continuous aggregates for the rollups)
   * and the plain views over them; applied at every start, after every projector's migrations
   * (see timeseries.ts). Without TimescaleDB the rollups are plain views of the same columns.
   */
  readonly timeSeries?: TimeSeriesSpec;
  /** Empties its tables (for a rebuild). */
  reset(tx: ProjectionTx): Promise<void>;
  /**
   * Applies a batch in global order. An event it cannot handle (an unexpected shape, a type it
   * does not know) must throw: the runner stops with the position, never skipping an event.
   */
  apply(tx: ProjectionTx, events: readonly RecordedEvent[]): Promise<void>;
}

/** Thrown by a projector for an event it cannot apply. */
export class ProjectionError extends Error {}
