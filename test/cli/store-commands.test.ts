import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PostgresEventStore } from '../../src/adapters/event-store/postgres-event-store.js';
import { openPglite } from '../../src/adapters/sql/database.js';
import { createCatalogue } from '../../src/domain/catalogue.js';
import { newEvent } from '../../src/domain/events/catalogue.js';
import { deterministicId } from '../../src/domain/events/ids.js';
import { CandleClosed, marketStream } from '../../src/domain/market/events.js';
import { cli } from '../support/cli.js';

describe('tradekernel store', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tk-cli-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('stats works on a fresh data directory, as text and as JSON', async () => {
    const text = await cli('--data-dir', dir, 'store', 'stats');
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('store:          pglite');
    expect(text.stdout).toContain('The log is empty');
    const json = await cli('--data-dir', dir, 'store', 'stats', '--json');
    expect(JSON.parse(json.stdout)).toEqual({
      kind: 'pglite',
      location: join(dir, 'pglite'),
      events: 0,
      streams: 0,
      lastPosition: 0,
      byCategory: [],
      byType: [],
    });
  });

  it('stats and tail show what was appended', async () => {
    const database = await openPglite(dir);
    const store = await PostgresEventStore.open(database, createCatalogue());
    const stream = marketStream('binance', 'BTC/USDT', '1h');
    const candles = [0, 1, 2].map((i) => {
      const openTime = 1_609_459_200_000 + i * 3_600_000;
      return newEvent(
        CandleClosed,
        deterministicId(openTime, 'binance', 'BTC/USDT', '1h', openTime),
        {
          exchange: 'binance',
          symbol: 'BTC/USDT',
          timeframe: '1h',
          openTime,
          closeTime: openTime + 3_600_000,
          open: 100 + i,
          high: 110 + i,
          low: 90 + i,
          close: 105 + i,
          volume: 1,
        },
        { occurredAt: openTime + 3_600_000 },
      );
    });
    await store.append(stream, candles, 'no_stream');
    await database.close();

    const stats = JSON.parse((await cli('--data-dir', dir, 'store', 'stats', '--json')).stdout);
    expect(stats).toMatchObject({
      events: 3,
      streams: 1,
      byCategory: [{ category: 'market', streams: 1, events: 3 }],
      byType: [{ type: 'CandleClosed', events: 3 }],
    });
    const tail = await cli('--data-dir', dir, 'store', 'tail', '-n', '2', '--json');
    const lines = tail.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((e) => e.data.open)).toEqual([101, 102]);
    expect(lines[0]).toMatchObject({ type: 'CandleClosed', stream, revision: 1 });
    const human = await cli('--data-dir', dir, 'store', 'tail', '--stream', stream, '-n', '1');
    expect(human.stdout).toContain(`${stream}@2  CandleClosed`);
    expect(human.stdout).toContain('2021-01-01T03:00:00Z');
  });

  it('bad settings are one clear line and a hint, with exit code 1', async () => {
    const bad = await cli('--store', 'mongo', 'store', 'stats');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('"mongo" is not a store');
    expect(bad.stderr).toContain('hint: use one of pglite, postgres, esdb');
    const count = await cli('--data-dir', dir, 'store', 'tail', '-n', 'lots');
    expect(count.code).toBe(1);
    expect(count.stderr).toContain('--count: "lots" is not a positive whole number');
    const unreachable = await cli(
      '--store',
      'postgres',
      '--database-url',
      'postgres://x@127.0.0.1:1/x',
      'store',
      'stats',
    );
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toContain('cannot reach PostgreSQL at postgres://x@127.0.0.1:1/x');
  });
});
