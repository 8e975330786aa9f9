/**
 * Service snapshots: the kernel's state (TradingKernel.snapshot()) plus the loop's cursors, taken
 * after a cycle's decisions are appended. A restart restores the latest one and replays only the
 * tail of the log after it, instead of every candle since the account started.
 *
 * A snapshot is a cache, never a fact: it lives in the SQL database beside the read models (not
 * in the event log), it names the account event it was taken at, and any doubt (another run,
 * another kernel configuration, an unknown format, a log that no longer has that event) makes
 * recovery fall back to the full replay, which is always correct.
 */
import { sql } from 'kysely';
import type { SqlDatabase } from '../adapters/sql/database.js';
import { migrate } from '../adapters/sql/migrations.js';
import type { KernelSnapshot } from '../domain/kernel/snapshot.js';

export const SERVICE_SNAPSHOT_FORMAT = 'tradekernel.service/1';

export interface MarketCursor {
  symbol: string;
  /** revision of the last candle the kernel handled in the market stream (-1 none) */
  handledRevision: number;
  /** open time of that candle (null none) */
  handledOpen: number | null;
}

export interface ServiceSnapshot {
  format: typeof SERVICE_SNAPSHOT_FORMAT;
  /** id of the account's RunStarted: a snapshot of another run of the same name is ignored */
  runStartedId: string;
  /** the account stream's revision and event id the state includes */
  accountRevision: number;
  accountEventId: string;
  /** the kernel handled every candle closing at or before this */
  watermark: number;
  kernel: KernelSnapshot;
  markets: MarketCursor[];
  /** revision of the last control-stream event taken (or passed over) */
  controlRevision: number;
  flags: { servicePaused: boolean; haltedUntilResume: boolean; haltedSincePause: boolean };
  /** equity curve before this snapshot (the kernel's curve only covers its own instance) */
  curve: { time: number[]; equity: number[] };
}

export interface SnapshotStore {
  load(account: string): Promise<ServiceSnapshot | null>;
  save(account: string, snapshot: ServiceSnapshot): Promise<void>;
}

/** Keeps the latest snapshot per account in `service.snapshots` (PGlite or PostgreSQL). */
export class SqlSnapshotStore implements SnapshotStore {
  private constructor(private readonly database: SqlDatabase) {}

  static async open(database: SqlDatabase): Promise<SqlSnapshotStore> {
    await migrate(database, 'service', [
      {
        version: 1,
        name: 'kernel snapshots',
        up: [
          'create schema if not exists service',
          `create table service.snapshots (
            account text primary key,
            account_revision bigint not null,
            watermark bigint not null,
            state text not null,
            taken_at timestamptz not null default now()
          )`,
        ],
      },
    ]);
    return new SqlSnapshotStore(database);
  }

  async load(account: string): Promise<ServiceSnapshot | null> {
    const { rows } = await sql<{ state: string }>`
      select state from service.snapshots where account = ${account}`.execute(this.database.db);
    if (!rows[0]) return null;
    try {
      const value = JSON.parse(rows[0].state) as ServiceSnapshot;
      return value.format === SERVICE_SNAPSHOT_FORMAT ? value : null;
    } catch {
      return null;
    }
  }

  async save(account: string, snapshot: ServiceSnapshot): Promise<void> {
    await sql`
      insert into service.snapshots (account, account_revision, watermark, state)
      values (${account}, ${snapshot.accountRevision}, ${Math.max(snapshot.watermark, 0)}, ${JSON.stringify(snapshot)})
      on conflict (account) do update set
        account_revision = excluded.account_revision,
        watermark = excluded.watermark,
        state = excluded.state,
        taken_at = now()`.execute(this.database.db);
  }
}
