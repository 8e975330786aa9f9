import type { EventCatalogue } from '../../domain/events/catalogue.js';
import type { EventStore } from '../../domain/ports/event-store.js';
import { openPglite, openPostgres, type SqlDatabase } from '../sql/database.js';
import { PostgresEventStore } from './postgres-event-store.js';

export type StoreChoice = 'pglite' | 'postgres' | 'esdb';

export interface StoreSettings {
  store: StoreChoice;
  /** Embedded data directory (PGlite lives in <dataDir>/pglite). */
  dataDir: string;
  databaseUrl?: string | undefined;
  esdbUrl?: string | undefined;
}

/** Opens the SQL database that holds the read models (and the event log unless it is on EventStoreDB). */
export async function openSqlDatabase(settings: StoreSettings): Promise<SqlDatabase> {
  if (settings.databaseUrl && settings.store !== 'pglite') return openPostgres(settings.databaseUrl);
  return openPglite(settings.dataDir);
}

/** The one place that turns settings into an event-store adapter. */
export async function openEventStore(
  settings: StoreSettings,
  catalogue: EventCatalogue,
  database?: SqlDatabase,
): Promise<EventStore> {
  if (settings.store === 'esdb') {
    // loaded only when chosen: the gRPC client takes ~0.2 s to load, a third of every command's start
    const { EsdbEventStore } = await import('./esdb-event-store.js');
    return EsdbEventStore.connect(settings.esdbUrl!, catalogue);
  }
  if (database) return PostgresEventStore.open(database, catalogue);
  const owned = await openSqlDatabase(settings);
  try {
    return await PostgresEventStore.open(owned, catalogue, { ownsDatabase: true });
  } catch (error) {
    await owned.close();
    throw error;
  }
}
