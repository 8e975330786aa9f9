import { join, resolve } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { UnavailableError } from '../../domain/errors.js';
import { lockDirectory } from './dir-lock.js';
import { PgliteDialect, PgliteTurns } from './pglite-dialect.js';

/**
 * One PostgreSQL database, embedded (PGlite) or on a server (pg), behind the same kysely handle.
 * The event log and the read models share it on the embedded default.
 */
export interface SqlDatabase {
  readonly kind: 'pglite' | 'postgres';
  readonly location: string;
  // biome-ignore lint/suspicious/noExplicitAny: tables are typed per module through kysely's sql tag
  readonly db: Kysely<any>;
  /**
   * Server only: a pooled pg connection of its own (for prepared statements). Release it; with
   * an error when it may be left mid-transaction, so the pool drops it.
   */
  readonly connect?: () => Promise<pg.PoolClient>;
  /** LISTEN on a channel; the callback is a wake-up hint, never the data itself. */
  listen(channel: string, onNotify: () => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

/** In memory when dataDir is undefined (tests), else on disk under `<dataDir>/pglite`. */
export async function openPglite(dataDir?: string): Promise<SqlDatabase> {
  const unlock = dataDir ? lockDirectory(resolve(dataDir)) : () => {};
  try {
    const location = dataDir ? join(resolve(dataDir), 'pglite') : 'memory://';
    const pglite = dataDir ? await PGlite.create(location) : await PGlite.create();
    const turns = new PgliteTurns();
    const db = new Kysely({ dialect: new PgliteDialect(pglite, turns) });
    return {
      kind: 'pglite',
      location,
      db,
      // (LISTEN in turn too: inside someone's transaction it would be undone by its rollback)
      async listen(channel, onNotify) {
        const unlisten = await turns.run(() => pglite.listen(channel, onNotify));
        return async () => {
          if (!pglite.closed) await turns.run(() => unlisten());
        };
      },
      async close() {
        await db.destroy();
        unlock();
      },
    };
  } catch (error) {
    unlock();
    throw error;
  }
}

/** int8 as number: positions and revisions stay far below 2^53. */
const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === 20) return (value: string) => Number(value);
    // biome-ignore lint/suspicious/noExplicitAny: pg's own overloads
    return (pg.types.getTypeParser as any)(oid, format);
  },
};

export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparsable URL)';
  }
}

export async function openPostgres(url: string, options: { poolSize?: number } = {}): Promise<SqlDatabase> {
  const pool = new pg.Pool({ connectionString: url, max: options.poolSize ?? 8, types });
  // An idle connection the server drops (restart, admin termination) is discarded by the pool;
  // without a listener its 'error' event would crash the process. The next query reconnects.
  pool.on('error', () => {});
  const location = redactUrl(url);
  try {
    const client = await pool.connect();
    client.release();
  } catch (error) {
    await pool.end().catch(() => {});
    throw new UnavailableError(
      `cannot reach PostgreSQL at ${location}: ${(error as Error).message}`,
      'start the server or fix DATABASE_URL / --database-url',
    );
  }
  const db = new Kysely({ dialect: new PostgresDialect({ pool }) });
  const listeners = new Set<pg.Client>();
  return {
    kind: 'postgres',
    location,
    db,
    connect: () => pool.connect(),
    async listen(channel, onNotify) {
      // A dedicated connection: LISTEN must stay on one session, outside the pool.
      const client = new pg.Client({ connectionString: url, types });
      await client.connect();
      client.on('notification', (msg) => {
        if (msg.channel === channel) onNotify();
      });
      client.on('error', () => {});
      await client.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
      listeners.add(client);
      return async () => {
        listeners.delete(client);
        await client.end().catch(() => {});
      };
    },
    async close() {
      await Promise.all([...listeners].map((c) => c.end().catch(() => {})));
      await db.destroy();
    },
  };
}
