import { execSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { readMarketFile } from '../src/adapters/market-files/index.js';
import { newEvent } from '../src/domain/events/catalogue.js';
import type { NewEvent } from '../src/domain/events/envelope.js';
import { deterministicId } from '../src/domain/events/ids.js';
import type { Candle } from '../src/domain/market/candle.js';
import { CandleClosed } from '../src/domain/market/events.js';

/** Shared helpers for the benchmarks: machine notes, medians, scratch PostgreSQL databases. */

export const SHARED_DATA = new URL('../../shared/data/binance-spot/', import.meta.url).pathname;
export const KLINES_1M = join(SHARED_DATA, 'klines-1m/BTCUSDT');

export function machine() {
  return {
    node: process.version,
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    postgres: safe(() => execSync('psql --version', { encoding: 'utf8' }).trim()),
  };
}

function safe(f: () => string): string {
  try {
    return f();
  } catch {
    return 'n/a';
  }
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export async function timed<T>(work: () => Promise<T>): Promise<{ ms: number; result: T }> {
  const start = performance.now();
  const result = await work();
  return { ms: performance.now() - start, result };
}

export const ADMIN_URL = process.env.BENCH_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** Creates a scratch database on the local server; returns its URL and a drop function. */
export async function scratchDatabase(
  name: string,
): Promise<{ url: string; name: string; drop(): Promise<void> } | null> {
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  try {
    await admin.connect();
  } catch {
    return null;
  }
  const db = `tk_bench_${name}_${process.pid}`;
  await admin.query(`drop database if exists ${db}`);
  await admin.query(`create database ${db}`);
  await admin.end();
  const url = new URL(ADMIN_URL);
  url.pathname = `/${db}`;
  return {
    url: url.toString(),
    name: db,
    async drop() {
      const c = new pg.Client({ connectionString: ADMIN_URL });
      await c.connect();
      await c.query(`drop database if exists ${db} with (force)`);
      await c.end();
    },
  };
}

export function klineFiles(prefix = 'BTCUSDT-1m-2021-'): string[] {
  return readdirSync(KLINES_1M)
    .filter((f) => f.startsWith(prefix))
    .sort()
    .map((f) => join(KLINES_1M, f));
}

export function report(name: string, fields: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify({ bench: name, ...fields })}\n`);
}

/**
 * CPU seconds (user + system) used so far by each server process serving `database`, read from
 * /proc (Linux, server on this machine; empty elsewhere). Pair two readings with serverCpuDelta
 * and process.cpuUsage() to tell the client's share of a run from the server's.
 */
export async function serverCpu(admin: pg.Client, database: string): Promise<Map<number, number>> {
  const out = new Map<number, number>();
  if (process.platform !== 'linux') return out;
  const { rows } = await admin.query<{ pid: number }>(
    'select pid from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()',
    [database],
  );
  for (const { pid } of rows) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(pid, (Number(fields[11]) + Number(fields[12])) / 100);
    } catch {
      // gone (or another machine's pid namespace)
    }
  }
  return out;
}

/** Seconds used between two serverCpu readings (a connection opened in between counts whole). */
export function serverCpuDelta(before: Map<number, number>, after: Map<number, number>): number {
  let seconds = 0;
  for (const [pid, used] of after) seconds += used - (before.get(pid) ?? 0);
  return seconds;
}

/** The first `count` real BTC/USDT 1m candles of 2021 from the shared data. */
export async function realCandles(count: number): Promise<Candle[]> {
  const out: Candle[] = [];
  for (const file of klineFiles()) {
    out.push(...(await readMarketFile(file)).candles);
    if (out.length >= count) break;
  }
  return out.slice(0, count);
}

/** Candle-sized events: `CandleClosed` of those candles as `symbol` on binance 1m. */
export function candleEvents(candles: readonly Candle[], symbol: string): NewEvent[] {
  return candles.map((c) =>
    newEvent(
      CandleClosed,
      deterministicId(c.openTime, 'binance', symbol, '1m', c.openTime),
      {
        exchange: 'binance',
        symbol,
        timeframe: '1m',
        openTime: c.openTime,
        closeTime: c.openTime + 60_000,
        open: c.open,
        high: c.high,
        low: c.low,
        close: c.close,
        volume: c.volume,
      },
      { occurredAt: c.openTime + 60_000 },
    ),
  );
}
