import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openContext } from '../../src/cli/context.js';
import { validateServiceConfig } from '../../src/service/config.js';
import { runService } from '../../src/service/run-service.js';
import { FaultyCandleSource } from '../../src/service/sources.js';
import { readAll, replayedService, replaySlice, SYMBOLS } from './support.js';

const root = mkdtempSync(join(tmpdir(), 'tk-stop-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('stopping a service while the exchange fails', () => {
  it('waits for no retry and fetches no further symbol, and records no collection failure', async () => {
    const data = replaySlice(join(root, 'candles'), 120);
    const config = validateServiceConfig({
      account: 'stop',
      symbols: [...SYMBOLS],
      api: { enabled: false },
      fetchAttempts: 3,
    });
    const stop = new AbortController();
    const store = { dataDir: join(root, 'store') };
    let cycles = 0;
    let failedCalls = 0;
    let stoppedAt = 0;
    const result = await runService({
      ...replayedService({ store, config, candles: data.dir, reportDir: join(root, 'reports') }),
      signal: stop.signal,
      // a minute between attempts: the stop must not wait for it
      retryDelayMs: () => 60_000,
      // from cycle 5 the exchange fails; the owner stops the service during the first failure
      wrapSource: (inner) =>
        new FaultyCandleSource(inner, () => {
          if (cycles < 5) return false;
          failedCalls++;
          if (!stop.signal.aborted) {
            stoppedAt = performance.now();
            stop.abort();
          }
          return 'error';
        }),
      onCycle: () => {
        cycles++;
      },
    });
    const stoppingMs = performance.now() - stoppedAt;
    expect(result.reason).toBe('stopped');
    expect(stoppingMs).toBeLessThan(5_000);
    expect(failedCalls).toBe(1); // no retry, no other symbol
    const ctx = await openContext(store);
    try {
      expect(await readAll(ctx.store, 'ops-paper-stop')).toEqual([]);
    } finally {
      await ctx.close();
    }
  });
});
