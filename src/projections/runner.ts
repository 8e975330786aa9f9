import { sql } from 'kysely';
import type { SqlDatabase } from '../adapters/sql/database.js';
import { migrate } from '../adapters/sql/migrations.js';
import { TradekernelError } from '../domain/errors.js';
import type { RecordedEvent } from '../domain/events/envelope.js';
import type { EventStore } from '../domain/ports/event-store.js';
import { type Checkpoint, checkpointMigrations, readCheckpoint, writeCheckpoint } from './checkpoints.js';
import type { Projector } from './projector.js';
import { applyTimeSeries, detectTimescale, refreshRollups, type TimescaleMode } from './timeseries.js';

/** A projector met an event it cannot apply: it stops there, it never skips. */
export class ProjectionStoppedError extends TradekernelError {
  constructor(
    readonly projection: string,
    readonly after: number,
    cause: unknown,
  ) {
    super(
      `projection ${projection} stopped at the events after position ${after}: ${(cause as Error)?.message ?? cause}`,
      'projection_stopped',
      'fix the projector (or the event), then run `tradekernel projections run`; it resumes from its checkpoint',
    );
  }
}

export interface ProjectionStatus {
  name: string;
  version: number;
  /** checkpoint: the global position of the last event applied (0 = nothing yet) */
  position: number;
  /** events applied since the last rebuild */
  events: number;
  /** occurredAt of the last event applied (epoch ms), null before the first */
  lastEventAt: number | null;
  /** events of its types stored after its checkpoint (capped at lagCap) */
  lag: number;
}

export interface RunnerOptions {
  /** `auto` (default): hypertables and continuous aggregates where TimescaleDB is (or can be) installed */
  timescale?: TimescaleMode;
}

export interface CatchUpProgress {
  projection: string;
  applied: number;
  position: number;
}

/**
 * Runs projectors over the event log: each reads its event types after its checkpoint, in
 * batches, and applies each batch and moves its checkpoint in one transaction.
 */
export class ProjectionRunner {
  /** whether the read models use TimescaleDB (known after prepare(), or looked up when needed) */
  private timescale: boolean | undefined;

  constructor(
    private readonly database: SqlDatabase,
    private readonly store: EventStore,
    readonly projectors: readonly Projector[],
    private readonly batchSize = 5_000,
    private readonly options: RunnerOptions = {},
  ) {}

  /**
   * Creates the tables; then, for every projector, its hypertables, rollups and views (timeseries.ts);
   * a projector whose version changed is rebuilt from zero.
   */
  async prepare(): Promise<void> {
    await migrate(this.database, 'readmodel', checkpointMigrations);
    for (const projector of this.projectors) {
      await migrate(this.database, `readmodel.${projector.name}`, projector.migrations);
    }
    this.timescale = await detectTimescale(this.database, this.options.timescale ?? 'auto');
    const timescale = this.timescale;
    await this.database.db.transaction().execute(async (tx) => {
      await sql`select pg_advisory_xact_lock(hashtext('tradekernel.migrations'))`.execute(tx);
      for (const projector of this.projectors) {
        if (projector.timeSeries) await applyTimeSeries(tx, projector.timeSeries, timescale);
      }
    });
    for (const projector of this.projectors) {
      const checkpoint = await this.database.db
        .transaction()
        .execute((tx) => readCheckpoint(tx, projector.name));
      if (checkpoint && checkpoint.version !== projector.version) await this.reset(projector);
    }
    // a process that stopped between a commit and its refresh left the aggregates behind
    for (const projector of this.projectors) await this.refresh(projector);
  }

  /** Whether the read models are on TimescaleDB (hypertables, continuous aggregates). */
  async usesTimescale(): Promise<boolean> {
    if (this.timescale === undefined) {
      if (this.options.timescale === 'off') this.timescale = false;
      else {
        const { rows } = await sql`select 1 from pg_extension where extname = 'timescaledb'`.execute(
          this.database.db,
        );
        this.timescale = rows.length > 0;
      }
    }
    return this.timescale;
  }

  /** Applies everything stored so far; returns the number of events applied. */
  async catchUp(onProgress?: (p: CatchUpProgress) => void, only?: Projector): Promise<number> {
    let total = 0;
    for (const projector of only ? [only] : this.projectors) {
      let applied = 0;
      // Read before the events: every position up to it is final (or never used), so once a
      // read finds nothing more, nothing of this projector's types can appear at or below it.
      const head = await this.store.headPosition();
      for (;;) {
        const checkpoint = await this.checkpoint(projector);
        const batch: RecordedEvent[] = [];
        for await (const event of this.store.readAll({
          after: checkpoint.scanned,
          filter: { types: projector.handles },
          maxCount: this.batchSize,
          pageSize: this.batchSize,
        })) {
          batch.push(event);
        }
        if (batch.length === 0) {
          if (head > checkpoint.scanned) await this.markScanned({ ...checkpoint, scanned: head });
          break;
        }
        const full = batch.length >= this.batchSize;
        const last = batch.at(-1)!.position;
        await this.applyBatch(projector, checkpoint, batch, full ? last : Math.max(last, head));
        applied += batch.length;
        onProgress?.({ projection: projector.name, applied, position: last });
        if (!full) break;
      }
      if (applied > 0) await this.refresh(projector);
      total += applied;
    }
    return total;
  }

  /** Empties a projection (or all) and replays it from the start of the log. */
  async rebuild(name?: string, onProgress?: (p: CatchUpProgress) => void): Promise<number> {
    const chosen = name ? [this.byName(name)] : this.projectors;
    let total = 0;
    for (const projector of chosen) {
      await this.reset(projector);
      total += await this.catchUp(onProgress, projector);
      await this.refresh(projector);
    }
    return total;
  }

  /**
   * Checkpoint and lag of each projection: the lag counted by reading the lagging events (of the
   * projection's types only: the store skips the rest), up to lagCap.
   */
  async status(lagCap = 1_000_000): Promise<ProjectionStatus[]> {
    const out: ProjectionStatus[] = [];
    for (const projector of this.projectors) {
      const checkpoint = await this.checkpoint(projector);
      out.push({
        name: projector.name,
        version: projector.version,
        position: checkpoint.position,
        events: checkpoint.events,
        lastEventAt: checkpoint.lastEventAt,
        lag: await this.countLag(checkpoint.scanned, projector.handles, lagCap),
      });
    }
    return out;
  }

  byName(name: string): Projector {
    const projector = this.projectors.find((p) => p.name === name);
    if (!projector) {
      throw new TradekernelError(
        `no projection named "${name}"`,
        'config',
        `use one of ${this.projectors.map((p) => p.name).join(', ')}`,
      );
    }
    return projector;
  }

  /** Events of the projection's types after its checkpoint, counted up to `cap`. */
  private async countLag(after: number, types: readonly string[], cap: number): Promise<number> {
    let lag = 0;
    for await (const _ of this.store.readAll({ after, filter: { types }, maxCount: cap })) lag++;
    return lag;
  }

  private async refresh(projector: Projector): Promise<void> {
    const rollups = projector.timeSeries?.rollups ?? [];
    if (rollups.length === 0 || !(await this.usesTimescale())) return;
    await refreshRollups(this.database, rollups);
  }

  private async applyBatch(
    projector: Projector,
    checkpoint: Checkpoint,
    batch: RecordedEvent[],
    scanned: number,
  ): Promise<void> {
    try {
      await this.database.db.transaction().execute(async (tx) => {
        await projector.apply(tx, batch);
        const last = batch.at(-1)!;
        await writeCheckpoint(tx, {
          projection: projector.name,
          version: projector.version,
          position: last.position,
          events: checkpoint.events + batch.length,
          lastEventAt: last.metadata.occurredAt,
          scanned,
        });
      });
    } catch (error) {
      throw new ProjectionStoppedError(projector.name, checkpoint.position, error);
    }
  }

  private async markScanned(checkpoint: Checkpoint): Promise<void> {
    await this.database.db.transaction().execute((tx) => writeCheckpoint(tx, checkpoint));
  }

  private async checkpoint(projector: Projector): Promise<Checkpoint> {
    const stored = await this.database.db.transaction().execute((tx) => readCheckpoint(tx, projector.name));
    return (
      stored ?? {
        projection: projector.name,
        version: projector.version,
        position: 0,
        events: 0,
        lastEventAt: null,
        scanned: 0,
      }
    );
  }

  private async reset(projector: Projector): Promise<void> {
    await this.database.db.transaction().execute(async (tx) => {
      await projector.reset(tx);
      await sql`delete from readmodel.checkpoints where projection = ${projector.name}`.execute(tx);
    });
  }
}
