import { openEventStore, openSqlDatabase } from '../adapters/event-store/open-event-store.js';
import type { SqlDatabase } from '../adapters/sql/database.js';
import { createCatalogue } from '../domain/catalogue.js';
import type { EventCatalogue } from '../domain/events/catalogue.js';
import type { EventStore } from '../domain/ports/event-store.js';
import { resolveStoreSettings, type StoreFlags } from './settings.js';

/** The composition root: the one place where ports meet their adapters. */
export interface AppContext {
  catalogue: EventCatalogue;
  store: EventStore;
  /** The SQL database of the read models (shared with the event log except on EventStoreDB). */
  database: SqlDatabase;
  close(): Promise<void>;
}

export async function openContext(flags: StoreFlags): Promise<AppContext> {
  const settings = resolveStoreSettings(flags);
  const catalogue = createCatalogue();
  const database = await openSqlDatabase(settings);
  try {
    const store = await openEventStore(settings, catalogue, database);
    return {
      catalogue,
      store,
      database,
      async close() {
        await store.close();
        await database.close();
      },
    };
  } catch (error) {
    await database.close();
    throw error;
  }
}

/** Opens the context, runs the work and always closes it (the embedded database keeps a lock). */
export async function withContext<T>(flags: StoreFlags, work: (ctx: AppContext) => Promise<T>): Promise<T> {
  const ctx = await openContext(flags);
  try {
    return await work(ctx);
  } finally {
    await ctx.close();
  }
}
