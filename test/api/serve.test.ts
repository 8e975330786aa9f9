import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PostgresEventStore } from '../../src/adapters/event-store/postgres-event-store.js';
import { openPglite } from '../../src/adapters/sql/database.js';
import { serve } from '../../src/cli/serve-api.js';
import { createCatalogue } from '../../src/domain/catalogue.js';
import { appendMarket, BTC_1H, candleEvents, existingAccount, TOKEN } from './support.js';

const ROOT = new URL('../../', import.meta.url).pathname;

async function until<T>(what: string, probe: () => Promise<T | null>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await probe().catch(() => null);
    if (value !== null) return value;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} did not happen within ${timeoutMs} ms`);
}

describe('tradekernel serve', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tk-serve-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('projects in the background while serving, counts appends, and closes cleanly on stop', async () => {
    const database = await openPglite(dir);
    const store = await PostgresEventStore.open(database, createCatalogue());
    await appendMarket(
      store,
      await candleEvents(BTC_1H, { exchange: 'binance', symbol: 'BTC/USDT', timeframe: '1h' }, 500),
    );
    await existingAccount(store, 'paper-main');
    await database.close();

    const stop = new AbortController();
    let url = '';
    const running = serve(
      { dataDir: dir },
      {
        host: '127.0.0.1',
        port: 0,
        maxLag: 0,
        logLevel: 'silent',
        token: TOKEN,
        stop: stop.signal,
        onListening: (u) => {
          url = u;
        },
      },
    );
    try {
      await until('listening', async () => (url ? url : null));
      // the worker catches the projection up: ready even with a max lag of 0
      await until('ready', async () => ((await fetch(`${url}/health/ready`)).status === 200 ? true : null));
      const candles = (await (
        await fetch(`${url}/v1/candles?exchange=binance&symbol=BTC%2FUSDT&timeframe=1h&limit=5000`)
      ).json()) as { data: unknown[] };
      expect(candles.data).toHaveLength(500);
      const projections = (await (await fetch(`${url}/v1/projections`)).json()) as {
        worker: { applied: number };
      };
      expect(projections.worker).toMatchObject({ running: true, failing: false });
      // every projector that reads candles has applied all 500 (several projectors do)
      expect(projections.worker.applied).toBeGreaterThanOrEqual(500);

      const paused = await fetch(`${url}/v1/accounts/paper-main/pause`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ reason: 'serve test' }),
      });
      expect(paused.status).toBe(202);
      const metrics = await (await fetch(`${url}/metrics`)).text();
      expect(metrics).toContain('tradekernel_events_appended_total{type="TradingPaused"} 1');
      expect(metrics).toMatch(/tradekernel_projection_lag_events\{projection="candles"\} 0/);
      expect(metrics).toContain('process_resident_memory_bytes');
    } finally {
      stop.abort();
      await running;
    }
    // the data directory is free again: the store and its lock were closed
    const reopened = await openPglite(dir);
    await reopened.close();
  });

  it('the CLI exits 0 on SIGTERM after answering, with control endpoints disabled without a token', async () => {
    const env = { ...process.env };
    delete env.TRADEKERNEL_API_TOKEN;
    const child = spawn(
      process.execPath,
      [
        '--import',
        // tsx by path: the child runs in the data directory, where `tsx` does not resolve
        pathToFileURL(join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href,
        join(ROOT, 'src/cli/main.ts'),
        '--data-dir',
        dir,
        'serve',
        '--port',
        '0',
        '--log-level',
        'warn',
      ],
      { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const url = await until(
        'the listening line',
        async () => /tradekernel API on (http:\/\/127\.0\.0\.1:\d+)/.exec(stdout)?.[1] ?? null,
        30_000,
      );
      expect(stdout).toContain('control endpoints disabled: set TRADEKERNEL_API_TOKEN');
      expect((await fetch(`${url}/health/live`)).status).toBe(200);
      const control = await fetch(`${url}/v1/accounts/main/kill-switch`, {
        method: 'POST',
        headers: { authorization: 'Bearer whatever', 'content-type': 'application/json' },
        body: JSON.stringify({ reason: 'x' }),
      });
      expect(control.status).toBe(403);
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(stderr).toContain('SIGTERM: closing the API');
    } catch (error) {
      throw new Error(`${(error as Error).message}\nstdout: ${stdout}\nstderr: ${stderr}`);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
