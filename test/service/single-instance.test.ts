import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { validateServiceConfig } from '../../src/service/config.js';
import { runService } from '../../src/service/run-service.js';
import { replayedService, replaySlice, SYMBOLS, spawnRun } from './support.js';

/**
 * Two instances on one account (issue 7 §4): the second refuses to start. On the embedded store
 * the data directory's lock file says so (pid inside); on PostgreSQL a session advisory lock per
 * account does, released by the server when the holder's connection dies.
 */
const root = mkdtempSync(join(tmpdir(), 'tk-single-'));
const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  rmSync(root, { recursive: true, force: true });
});
const data = replaySlice(join(root, 'candles'), 200);

function start(dataDir: string, extra: string[] = []) {
  const run = spawnRun(dataDir, data.dir, 'single', extra);
  children.push(run.child);
  return run;
}

async function until(condition: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('one service per account', () => {
  it('PGlite: a second process on the same data directory refuses to start; after a kill -9 a new one may', async () => {
    const dir = join(root, 'pglite');
    // an hour of candles a second: the first one keeps running for minutes
    const first = start(dir, ['--speed', '3600']);
    const lock = join(dir, 'tradekernel.lock');
    await until(() => existsSync(lock) && readFileSync(lock, 'utf8') === String(first.child.pid), 60_000);

    const second = await start(dir, ['--speed', 'max']).exited;
    expect(second.code).not.toBe(0);
    expect(second.stderr).toMatch(
      new RegExp(`in use by another tradekernel process \\(pid ${first.child.pid}\\)`),
    );
    expect(first.child.exitCode).toBeNull();

    // the crash leaves the lock file behind: it names a dead process, so the next start takes it over
    first.child.kill('SIGKILL');
    expect((await first.exited).signal).toBe('SIGKILL');
    expect(existsSync(lock)).toBe(true);
    const third = await start(dir, ['--speed', 'max', '--max-cycles', '2']).exited;
    expect(third.stderr).toMatch(/stopped: 2 cycles/);
    expect(third.code).toBe(0);
  }, 120_000);

  if (!process.env.DATABASE_URL)
    console.warn('[skipped] single instance on PostgreSQL: DATABASE_URL is not set');
  it.skipIf(!process.env.DATABASE_URL)(
    'PostgreSQL: a second service on the account refuses to start while the first holds the advisory lock',
    async () => {
      const store = { store: 'postgres' as const, databaseUrl: process.env.DATABASE_URL! };
      const account = `single${Date.now().toString(36)}`;
      // an exchange name of its own: market streams not shared with other tests on the database
      const exchange = `x${Date.now().toString(36)}`;
      const config = validateServiceConfig({
        account,
        exchange,
        symbols: [...SYMBOLS],
        api: { enabled: false },
      });
      const options = {
        ...replayedService({ store, config, candles: data.dir, reportDir: join(root, 'reports') }),
        mailer: null,
      };
      let refusal: unknown = null;
      const first = await runService({
        ...options,
        maxCycles: 3,
        onStarted: async () => {
          // the first holds the account: the second must refuse before touching anything
          refusal = await runService({ ...options, maxCycles: 1 }).then(
            () => null,
            (error: unknown) => error,
          );
        },
      });
      expect(first.reason).toBe('max-cycles');
      expect(String(refusal)).toMatch(
        new RegExp(`account paper-${account} is already run by another tradekernel service`),
      );
      // once the first stopped, the lock is free
      const again = await runService({ ...options, maxCycles: 1 });
      expect(again.reason).toBe('max-cycles');
      // another account on the same database is independent
      const other = validateServiceConfig({
        account: `${account}b`,
        exchange,
        symbols: [...SYMBOLS],
        api: { enabled: false },
      });
      let parallel: unknown = 'not run';
      await runService({
        ...options,
        maxCycles: 1,
        onStarted: async () => {
          parallel = await runService({ ...options, config: other, maxCycles: 1 }).then((r) => r.reason);
        },
      });
      expect(parallel).toBe('max-cycles');
    },
    120_000,
  );
});
