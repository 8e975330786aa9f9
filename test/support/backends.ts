import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { EsdbEventStore } from '../../src/adapters/event-store/esdb-event-store.js';
import { PostgresEventStore } from '../../src/adapters/event-store/postgres-event-store.js';
import { openPglite, openPostgres, type SqlDatabase } from '../../src/adapters/sql/database.js';
import type { EventCatalogue } from '../../src/domain/events/catalogue.js';
import type { EventStore } from '../../src/domain/ports/event-store.js';

/** A store backend the contract suite can run against, or why it is skipped. */
export interface Backend {
  name: 'pglite' | 'postgres' | 'esdb';
  skipReason: string | null;
  /** Event ids unique across the whole log (on EventStoreDB the adapter checks an append only against the stream's recent events). */
  uniqueIdsAcrossStreams: boolean;
  /** SQL access for tests that look under the hood (PGlite and PostgreSQL only). */
  sql: boolean;
  open(
    catalogue: EventCatalogue,
  ): Promise<{ store: EventStore; database?: SqlDatabase; close(): Promise<void> }>;
}

const databaseUrl = process.env.DATABASE_URL;
const esdbUrl = process.env.ESDB_URL;

export const backends: Backend[] = [
  {
    name: 'pglite',
    skipReason: null,
    uniqueIdsAcrossStreams: true,
    sql: true,
    async open(catalogue) {
      // on disk, as the product runs it (appends by COPY need it: see openPglite)
      const dir = mkdtempSync(join(tmpdir(), 'tk-contract-'));
      const database = await openPglite(dir);
      const store = await PostgresEventStore.open(database, catalogue);
      return {
        store,
        database,
        close: async () => {
          await database.close();
          rmSync(dir, { recursive: true, force: true });
        },
      };
    },
  },
  {
    name: 'postgres',
    skipReason: databaseUrl
      ? null
      : 'DATABASE_URL is not set (CI sets it to a fresh database on the local server)',
    uniqueIdsAcrossStreams: true,
    sql: true,
    async open(catalogue) {
      // Each suite gets its own database on the server DATABASE_URL names, so a suite that
      // replays the whole log (projections, rebuilds) never sees another suite's events.
      const scratch = await createScratchDatabase(databaseUrl!);
      const database = await openPostgres(scratch.url);
      const store = await PostgresEventStore.open(database, catalogue);
      return {
        store,
        database,
        close: async () => {
          await store.close();
          await database.close();
          await scratch.drop();
        },
      };
    },
  },
  {
    name: 'esdb',
    skipReason: esdbUrl ? null : 'ESDB_URL is not set (no EventStoreDB server on this machine)',
    uniqueIdsAcrossStreams: false,
    sql: false,
    async open(catalogue) {
      const store = await EsdbEventStore.connect(esdbUrl!, catalogue);
      return { store, close: () => store.close() };
    },
  },
];

for (const backend of backends) {
  if (backend.skipReason) console.warn(`[skipped] ${backend.name} event-store tests: ${backend.skipReason}`);
}

async function createScratchDatabase(url: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `tk_test_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
  const admin = async (sql: string) => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  await admin(`create database ${name}`);
  const scratch = new URL(url);
  scratch.pathname = `/${name}`;
  return { url: scratch.toString(), drop: () => admin(`drop database if exists ${name} with (force)`) };
}
