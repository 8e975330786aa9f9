import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DuplicateEventIdError, WrongExpectedRevisionError } from '../../src/domain/errors.js';
import type { NewEvent } from '../../src/domain/events/envelope.js';
import type { EventStore } from '../../src/domain/ports/event-store.js';
import { backends } from '../support/backends.js';
import { collect, testCatalogue, testEvent, testEvents, uniquePrefix } from '../support/test-events.js';

/**
 * Large batches and awkward data: a batch of 150 events or more goes in by COPY (streamed on a
 * PostgreSQL server, as one blob on PGlite) and on a server every page comes out by COPY, each
 * with its own text format; the guarantees and the values read back must be the same as for
 * small batches.
 */
const NOTES = [
  'a "quoted" word',
  'back\\slash and \\N and \\\\ twice',
  'tab\there, newline\nthere, return\r, form\f, bell\u0007, nul-ish \u0001',
  'unicode: é, ß, 中文, emoji 🚀, line separator \u2028',
  '\\',
  '\\N',
  'trailing backslash \\',
];

function awkwardBatch(count: number): NewEvent[] {
  return Array.from({ length: count }, (_, i) => {
    const event = testEvent(i, { note: NOTES[i % NOTES.length]! });
    if (i % 3 === 0) {
      event.metadata = {
        ...event.metadata,
        causationId: '0190a000-0000-4000-8000-000000000001',
        correlationId: '0190a000-0000-4000-8000-000000000002',
        mode: 'paper',
        runId: 'run:2024-01-01.bulk_test',
      };
    }
    return event;
  });
}

for (const backend of backends) {
  describe.skipIf(backend.skipReason !== null)(`large batches: ${backend.name}`, () => {
    let store: EventStore;
    let close: () => Promise<void>;

    beforeAll(async () => {
      ({ store, close } = await backend.open(testCatalogue()));
    });
    afterAll(async () => {
      await close?.();
    });

    it('round-trips awkward data and metadata through a stream read and the global order', async () => {
      const p = uniquePrefix();
      const batch = awkwardBatch(300);
      const result = await store.append(`${p}-a`, batch, 'no_stream');
      expect(result.nextExpectedRevision).toBe(299);
      const expected = batch.map((e) => ({ id: e.id, data: e.data, metadata: e.metadata }));
      const fromStream = await collect(store.readStream(`${p}-a`));
      expect(fromStream.map((e) => ({ id: e.id, data: e.data, metadata: e.metadata }))).toEqual(
        expected.map((e) => ({ ...e, metadata: { ...e.metadata, recordedAt: expect.any(Number) } })),
      );
      const all = await collect(store.readAll({ filter: { streamPrefixes: [`${p}-`] }, pageSize: 64 }));
      expect(all).toEqual(fromStream);
      expect(all.at(-1)!.position).toBe(result.position);
      const backwards = await collect(store.readStream(`${p}-a`, { direction: 'backwards', maxCount: 70 }));
      expect(backwards.map((e) => e.revision)).toEqual(Array.from({ length: 70 }, (_, i) => 299 - i));
    });

    it('a retried large batch is a no-op, and a conflicting one writes nothing', async () => {
      const s = `${uniquePrefix()}-r`;
      const batch = testEvents(0, 200);
      const first = await store.append(s, batch, 'no_stream');
      expect(first.written).toBe(true);
      expect(await store.append(s, batch, 'no_stream')).toEqual({ ...first, written: false });
      expect((await store.append(s, batch, 'any')).written).toBe(false);
      await expect(store.append(s, testEvents(200, 200), 5)).rejects.toBeInstanceOf(
        WrongExpectedRevisionError,
      );
      await expect(store.append(s, testEvents(200, 200), 'no_stream')).rejects.toBeInstanceOf(
        WrongExpectedRevisionError,
      );
      const next = await store.append(s, testEvents(200, 200), 199);
      expect(next.nextExpectedRevision).toBe(399);
      expect((await collect(store.readStream(s))).map((e) => e.revision)).toEqual(
        Array.from({ length: 400 }, (_, i) => i),
      );
    });

    it('refuses a large batch holding an id stored elsewhere and writes none of it', async () => {
      const p = uniquePrefix();
      const stored = testEvent(1);
      await store.append(`${p}-x`, [stored]);
      const batch = [...testEvents(0, 150), stored, ...testEvents(150, 50)];
      if (backend.uniqueIdsAcrossStreams) {
        await expect(store.append(`${p}-y`, batch)).rejects.toBeInstanceOf(DuplicateEventIdError);
        expect(await store.streamRevision(`${p}-y`)).toBe(-1);
      }
      const half = testEvents(1000, 100);
      await store.append(`${p}-z`, half);
      // half of it stored already, the rest new: not a retry
      await expect(store.append(`${p}-z`, [...half, ...testEvents(2000, 100)])).rejects.toBeInstanceOf(
        DuplicateEventIdError,
      );
      expect(await store.streamRevision(`${p}-z`)).toBe(99);
    });

    it('reads the global order across many pages with a max count', async () => {
      const p = uniquePrefix();
      await Promise.all([0, 1, 2].map((w) => store.append(`${p}-${w}`, testEvents(w * 1000, 250))));
      const filter = { streamPrefixes: [`${p}-`] };
      const all = await collect(store.readAll({ filter, pageSize: 100 }));
      expect(all.length).toBe(750);
      const positions = all.map((e) => e.position);
      expect(positions).toEqual([...positions].sort((a, b) => a - b));
      expect(new Set(positions).size).toBe(750);
      const some = await collect(store.readAll({ filter, pageSize: 100, maxCount: 333 }));
      expect(some).toEqual(all.slice(0, 333));
      const after = await collect(store.readAll({ filter, after: all[399]!.position, pageSize: 128 }));
      expect(after).toEqual(all.slice(400));
      const back = await collect(store.readAll({ filter, direction: 'backwards', pageSize: 100 }));
      expect(back).toEqual([...all].reverse());
    });
  });
}
