import { sql } from 'kysely';
import { StoreDataError } from '../../domain/errors.js';
import type { SqlDatabase } from './database.js';

/** One schema change of a component (eventlog, readmodel): applied once, in order, never edited. */
export interface Migration {
  version: number;
  name: string;
  /** statements, run in order */
  up: readonly string[];
  /** work SQL cannot do alone (re-encoding rows), run after `up` in the same transaction */
  afterwards?: (tx: SqlDatabase['db']) => Promise<void>;
}

/**
 * Applies a component's pending migrations in one transaction under an advisory lock, so two
 * processes starting together do not race. A database written by a newer build is refused.
 */
export async function migrate(database: SqlDatabase, component: string, migrations: readonly Migration[]) {
  const latest = migrations.at(-1)?.version ?? 0;
  await database.db.transaction().execute(async (tx) => {
    await sql`select pg_advisory_xact_lock(hashtext('tradekernel.migrations'))`.execute(tx);
    await sql`create table if not exists public.tradekernel_migrations (
      component text not null,
      version integer not null,
      name text not null,
      applied_at timestamptz not null default now(),
      primary key (component, version)
    )`.execute(tx);
    const rows = await sql<{ version: number }>`
      select coalesce(max(version), 0)::int as version
      from public.tradekernel_migrations where component = ${component}`.execute(tx);
    const current = rows.rows[0]?.version ?? 0;
    if (current > latest) {
      throw new StoreDataError(
        `the database at ${database.location} has ${component} schema v${current}, newer than this build (v${latest})`,
        'upgrade tradekernel',
      );
    }
    for (const migration of migrations) {
      if (migration.version <= current) continue;
      for (const statement of migration.up) await sql.raw(statement).execute(tx);
      await migration.afterwards?.(tx);
      await sql`insert into public.tradekernel_migrations (component, version, name)
        values (${component}, ${migration.version}, ${migration.name})`.execute(tx);
    }
  });
}
