import fc from 'fast-check';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SqlDatabase } from '../../src/adapters/sql/database.js';
import { createCatalogue } from '../../src/domain/catalogue.js';
import { newEvent } from '../../src/domain/events/catalogue.js';
import type { NewEvent } from '../../src/domain/events/envelope.js';
import { deterministicId } from '../../src/domain/events/ids.js';
import { CandleClosed, CandleGapDetected } from '../../src/domain/market/events.js';
import type { EventStore } from '../../src/domain/ports/event-store.js';
import { candlesProjector } from '../../src/projections/candles.js';
import { ProjectionRunner, ProjectionStoppedError } from '../../src/projections/index.js';
import type { Projector } from '../../src/projections/projector.js';
import { backends } from '../support/backends.js';

const HOUR = 3_600_000;
const T0 = 1_609_459_200_000;

function candle(symbol: string, i: number, close = 100 + i): NewEvent {
  const openTime = T0 + i * HOUR;
  return newEvent(
    CandleClosed,
    deterministicId(openTime, 'test', symbol, '1h', openTime),
    {
      exchange: 'binance',
      symbol,
      timeframe: '1h',
      openTime,
      closeTime: openTime + HOUR,
      open: close,
      high: close + 1,
      low: close - 1,
      close,
      volume: 2,
    },
    { occurredAt: openTime + HOUR },
  );
}

async function rows(db: SqlDatabase, symbol: string) {
  const { rows } = await sql<{ open_time: Date; close: number; event_position: number }>`
    select open_time, close, event_position from readmodel.candles where symbol = ${symbol} order by open_time`.execute(
    db.db,
  );
  return rows.map((r) => [new Date(r.open_time).getTime(), r.close, Number(r.event_position)]);
}

for (const backend of backends.filter((b) => b.sql)) {
  describe.skipIf(backend.skipReason !== null)(`candles projection on ${backend.name}`, () => {
    let store: EventStore;
    let database: SqlDatabase;
    let close: () => Promise<void>;
    let symbolN = 0;
    // each test uses its own symbols: the projection is shared by the whole file
    const freshSymbol = () => `T${process.pid % 1000}X${symbolN++}/USDT`;

    beforeAll(async () => {
      const opened = await backend.open(createCatalogue());
      ({ store, close } = opened);
      database = opened.database!;
      await sql`drop schema if exists readmodel cascade`.execute(database.db);
      await sql`delete from public.tradekernel_migrations where component like 'readmodel%'`.execute(
        database.db,
      );
    });
    afterAll(async () => close?.());

    it('projects candles and gaps, moves its checkpoint with them and reports no lag', async () => {
      const symbol = freshSymbol();
      const stream = `market-test-${symbol.replace('/', '_')}-1h`;
      await store.append(stream, [candle(symbol, 0), candle(symbol, 1), candle(symbol, 5)]);
      await store.append(stream, [
        newEvent(
          CandleGapDetected,
          deterministicId(T0, 'gap', symbol),
          {
            exchange: 'binance',
            symbol,
            timeframe: '1h',
            from: T0 + 2 * HOUR,
            to: T0 + 4 * HOUR,
            missing: 3,
          },
          { occurredAt: T0 + 5 * HOUR },
        ),
      ]);
      const runner = new ProjectionRunner(database, store, [candlesProjector], 2);
      await runner.prepare();
      expect((await runner.status()).find((s) => s.name === 'candles')!.lag).toBeGreaterThanOrEqual(4);
      await runner.catchUp();
      expect((await rows(database, symbol)).map((r) => r[1])).toEqual([100, 101, 105]);
      const gaps = await sql<{
        missing: number;
      }>`select missing from readmodel.candle_gaps where symbol = ${symbol}`.execute(database.db);
      expect(gaps.rows).toEqual([{ missing: 3 }]);
      const [status] = await runner.status();
      expect(status).toMatchObject({ name: 'candles', lag: 0, lastEventAt: T0 + 5 * HOUR });
      expect(await runner.catchUp()).toBe(0);
    });

    it('a rebuild yields the same rows as the incremental run (property)', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.integer({ min: 1, max: 7 }), { minLength: 1, maxLength: 6 }),
          fc.integer({ min: 1, max: 5 }),
          async (chunks, batchSize) => {
            const symbol = freshSymbol();
            const stream = `market-test-${symbol.replace('/', '_')}-1h`;
            const runner = new ProjectionRunner(database, store, [candlesProjector], batchSize);
            await runner.prepare();
            let i = 0;
            for (const size of chunks) {
              await store.append(
                stream,
                Array.from({ length: size }, () => candle(symbol, i++)),
              );
              await runner.catchUp();
            }
            const incremental = await rows(database, symbol);
            expect(incremental.length).toBe(i);
            await runner.rebuild('candles');
            expect(await rows(database, symbol)).toEqual(incremental);
          },
        ),
        { numRuns: 8 },
      );
    });

    it('a projector that fails mid-batch resumes without loss or double counting', async () => {
      const symbol = freshSymbol();
      const stream = `market-test-${symbol.replace('/', '_')}-1h`;
      const runner = new ProjectionRunner(database, store, [candlesProjector], 3);
      await runner.prepare();
      await runner.catchUp();
      await store.append(
        stream,
        Array.from({ length: 10 }, (_, i) => candle(symbol, i)),
      );
      let calls = 0;
      // writes its rows, then dies before the transaction commits, on the second batch
      const flaky: Projector = {
        ...candlesProjector,
        async apply(tx, events) {
          await candlesProjector.apply(tx, events);
          if (++calls === 2) throw new Error('killed mid-batch');
        },
      };
      const failing = new ProjectionRunner(database, store, [flaky], 3);
      await expect(failing.catchUp()).rejects.toBeInstanceOf(ProjectionStoppedError);
      expect((await rows(database, symbol)).length).toBe(3);
      await runner.catchUp();
      expect((await rows(database, symbol)).map((r) => r[1])).toEqual(
        Array.from({ length: 10 }, (_, i) => 100 + i),
      );
      const [status] = await runner.status();
      expect(status!.lag).toBe(0);
    });

    it('stops with a clear error at an event it cannot apply, and does not move past it', async () => {
      const symbol = freshSymbol();
      const runner = new ProjectionRunner(database, store, [candlesProjector], 100);
      await runner.prepare();
      await runner.catchUp();
      const before = (await runner.status())[0]!;
      const picky: Projector = {
        ...candlesProjector,
        name: 'candles',
        handles: ['CandleClosed', 'MarketRulesObserved'],
      };
      await store.append(`market-test-${symbol.replace('/', '_')}-rules`, [
        newEvent(
          { type: 'MarketRulesObserved', schemaVersion: 1 } as never,
          deterministicId(T0, 'rules', symbol),
          {
            exchange: 'binance',
            symbol,
            amountStep: 0.001,
            priceStep: 0.01,
            minAmount: 0.001,
            minNotional: 5,
          },
          { occurredAt: T0 },
        ),
      ]);
      const error = await new ProjectionRunner(database, store, [picky], 100).catchUp().catch((e) => e);
      expect(error).toBeInstanceOf(ProjectionStoppedError);
      expect(error.message).toMatch(
        /projection candles stopped .*cannot apply MarketRulesObserved at position \d+/,
      );
      expect((await runner.status())[0]!.position).toBe(before.position);
    });
  });
}
