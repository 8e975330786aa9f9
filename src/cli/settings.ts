import { existsSync } from 'node:fs';
import type { StoreChoice, StoreSettings } from '../adapters/event-store/open-event-store.js';
import { ConfigError } from '../domain/errors.js';

export interface StoreFlags {
  store?: string;
  dataDir?: string;
  databaseUrl?: string;
  esdbUrl?: string;
}

const STORES: readonly StoreChoice[] = ['pglite', 'postgres', 'esdb'];

/**
 * Where the event log and read models live. Flags win over environment variables, which win
 * over the embedded default (PGlite under ./data). DATABASE_URL alone never switches the store:
 * one setting (--store / TRADEKERNEL_STORE) chooses it.
 */
export function resolveStoreSettings(flags: StoreFlags, env: NodeJS.ProcessEnv = process.env): StoreSettings {
  const store = (flags.store ?? env.TRADEKERNEL_STORE ?? 'pglite').toLowerCase();
  if (!STORES.includes(store as StoreChoice)) {
    throw new ConfigError(
      `--store / TRADEKERNEL_STORE: "${store}" is not a store`,
      `use one of ${STORES.join(', ')} (pglite is the embedded default)`,
    );
  }
  const settings: StoreSettings = {
    store: store as StoreChoice,
    dataDir: flags.dataDir ?? env.TRADEKERNEL_DATA_DIR ?? './data',
    databaseUrl: flags.databaseUrl ?? env.DATABASE_URL,
    esdbUrl: flags.esdbUrl ?? env.ESDB_URL,
  };
  if (settings.store === 'postgres' && !settings.databaseUrl) {
    throw new ConfigError(
      '--store postgres needs a database URL',
      'set DATABASE_URL or pass --database-url postgres://user@host:5432/db',
    );
  }
  if (settings.store === 'esdb' && !settings.esdbUrl) {
    throw new ConfigError(
      '--store esdb needs an EventStoreDB URL',
      'set ESDB_URL or pass --esdb-url esdb://localhost:2113?tls=false',
    );
  }
  return settings;
}

/** Reads ./.env (secrets, URLs) into the environment once, without overriding what is set. */
export function loadDotEnv(path = '.env'): void {
  if (existsSync(path)) process.loadEnvFile(path);
}
