import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chunkEnds, EsdbEventStore } from '../../src/adapters/event-store/esdb-event-store.js';
import { DuplicateEventIdError, WrongExpectedRevisionError } from '../../src/domain/errors.js';
import type { EventStore } from '../../src/domain/ports/event-store.js';
import { backends } from '../support/backends.js';
import { collect, testCatalogue, testEvent, testEvents, uniquePrefix } from '../support/test-events.js';

/**
 * Edges of append and of the global order that every store must treat alike, and (with
 * ESDB_URL) the EventStoreDB adapter's chunked appends.
 */
for (const backend of backends) {
  describe.skipIf(backend.skipReason !== null)(`append edges: ${backend.name}`, () => {
    let store: EventStore;
    let close: () => Promise<void>;

    beforeAll(async () => {
      ({ store, close } = await backend.open(testCatalogue()));
    });
    afterAll(async () => {
      await close?.();
    });

    it('an empty batch writes nothing but still checks the expected revision', async () => {
      const s = `${uniquePrefix()}-e`;
      expect(await store.append(s, [], 'any')).toMatchObject({ nextExpectedRevision: -1, written: false });
      expect((await store.append(s, [], 'no_stream')).nextExpectedRevision).toBe(-1);
      await expect(store.append(s, [], 'stream_exists')).rejects.toBeInstanceOf(WrongExpectedRevisionError);
      await expect(store.append(s, [], 0)).rejects.toMatchObject({ expected: 0, actual: -1 });
      await store.append(s, testEvents(0, 2));
      expect((await store.append(s, [], 1)).nextExpectedRevision).toBe(1);
      await expect(store.append(s, [], 'no_stream')).rejects.toMatchObject({ actual: 1 });
      expect(await store.streamRevision(s)).toBe(1);
    });

    it('refuses a batch that ends with an event already stored, and writes none of it', async () => {
      const s = `${uniquePrefix()}-d`;
      const stored = testEvents(0, 3);
      await store.append(s, stored);
      await expect(store.append(s, [testEvent(10), stored[0]!], 'any')).rejects.toBeInstanceOf(
        DuplicateEventIdError,
      );
      await expect(store.append(s, [testEvent(11), stored[2]!], 'stream_exists')).rejects.toBeInstanceOf(
        DuplicateEventIdError,
      );
      expect(await store.streamRevision(s)).toBe(2);
    });

    it('a batch retried with its expected revision after later appends is a no-op', async () => {
      const s = `${uniquePrefix()}-r`;
      const first = testEvents(0, 5);
      const written = await store.append(s, first, 'no_stream');
      await store.append(s, testEvents(5, 5), 4);
      expect(await store.append(s, first, 'no_stream')).toEqual({ ...written, written: false });
      expect(await store.streamRevision(s)).toBe(9);
    });

    it('reads backwards from a position, leaving it out', async () => {
      const p = uniquePrefix();
      await store.append(`${p}-a`, testEvents(0, 4));
      await store.append(`${p}-b`, testEvents(10, 4));
      const filter = { streamPrefixes: [`${p}-`] };
      const all = await collect(store.readAll({ filter }));
      const before = await collect(
        store.readAll({ direction: 'backwards', before: all[5]!.position, filter, maxCount: 3 }),
      );
      expect(before.map((e) => e.id)).toEqual([all[4]!.id, all[3]!.id, all[2]!.id]);
      const beyond = await collect(
        store.readAll({ direction: 'backwards', before: Number.MAX_SAFE_INTEGER, filter }),
      );
      expect(beyond.map((e) => e.id)).toEqual([...all].reverse().map((e) => e.id));
    });
  });
}

const esdbUrl = process.env.ESDB_URL;

describe.skipIf(!esdbUrl)('EventStoreDB: appends over the byte budget', () => {
  const budget = 2048;
  let store: EsdbEventStore;

  beforeAll(async () => {
    store = await EsdbEventStore.connect(esdbUrl!, testCatalogue(), { appendBudgetBytes: budget });
  });
  afterAll(async () => {
    await store?.close();
  });

  it('writes a large batch in chunks, in order, and a retry of it is a no-op', async () => {
    const s = `${uniquePrefix()}-big`;
    const batch = testEvents(0, 300);
    expect(chunkEnds(batch, budget).length).toBeGreaterThan(10);
    const result = await store.append(s, batch, 'no_stream');
    expect(result.nextExpectedRevision).toBe(299);
    const stored = await collect(store.readStream(s));
    expect(stored.map((e) => e.id)).toEqual(batch.map((e) => e.id));
    expect(stored.at(-1)!.position).toBe(result.position);
    expect(await store.append(s, batch, 'no_stream')).toEqual({ ...result, written: false });
    expect(await store.append(s, batch, 'any')).toEqual({ ...result, written: false });
  });

  it('a retry of a batch interrupted after some chunks writes the rest', async () => {
    const s = `${uniquePrefix()}-cut`;
    for (const expected of [-1, 'any'] as const) {
      const base = await store.streamRevision(s);
      const batch = testEvents(1000 * (base + 2), 120);
      const ends = chunkEnds(batch, budget);
      await store.append(s, batch.slice(0, ends[1]), expected); // as if the writer died after two chunks
      const result = await store.append(s, batch, expected === -1 ? base : expected);
      expect(result).toMatchObject({ nextExpectedRevision: base + 120, written: true });
    }
    expect(await store.streamRevision(s)).toBe(239);
  });

  it('with throwOnAppendFailure=false a conflict is still an error', async () => {
    const url = `${esdbUrl}${esdbUrl!.includes('?') ? '&' : '?'}throwOnAppendFailure=false`;
    const lenient = await EsdbEventStore.connect(url, testCatalogue());
    try {
      const s = `${uniquePrefix()}-l`;
      await lenient.append(s, testEvents(0, 2));
      await expect(lenient.append(s, [testEvent(5)], 7)).rejects.toMatchObject({ expected: 7, actual: 1 });
      expect(await lenient.streamRevision(s)).toBe(1);
    } finally {
      await lenient.close();
    }
  });
});
