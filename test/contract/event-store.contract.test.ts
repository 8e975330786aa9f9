import fc from 'fast-check';
import { firstValueFrom, take, toArray } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DuplicateEventIdError,
  InvalidEventError,
  WrongExpectedRevisionError,
} from '../../src/domain/errors.js';
import type { RecordedEvent } from '../../src/domain/events/envelope.js';
import type { EventStore } from '../../src/domain/ports/event-store.js';
import { backends } from '../support/backends.js';
import { collect, testCatalogue, testEvent, testEvents, uniquePrefix } from '../support/test-events.js';

for (const backend of backends) {
  describe.skipIf(backend.skipReason !== null)(`event store contract: ${backend.name}`, () => {
    let store: EventStore;
    let close: () => Promise<void>;

    beforeAll(async () => {
      ({ store, close } = await backend.open(testCatalogue()));
    });
    afterAll(async () => {
      await close?.();
    });

    const ns = (p: string) => collect(store.readAll({ filter: { streamPrefixes: [`${p}-`] } }));

    describe('append and read a stream', () => {
      it('reads forwards and backwards from a revision, with a max count', async () => {
        const s = `${uniquePrefix()}-a`;
        const result = await store.append(s, testEvents(0, 10), 'no_stream');
        expect(result.nextExpectedRevision).toBe(9);
        expect(result.written).toBe(true);

        const all = await collect(store.readStream(s));
        expect(all.map((e) => e.data)).toEqual(Array.from({ length: 10 }, (_, n) => ({ n })));
        expect(all.map((e) => e.revision)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
        expect(all.every((e) => e.stream === s && e.type === 'TestHappened')).toBe(true);
        expect(all.at(-1)!.position).toBe(result.position);

        const fromFour = await collect(store.readStream(s, { fromRevision: 4, maxCount: 3 }));
        expect(fromFour.map((e) => e.revision)).toEqual([4, 5, 6]);
        const back = await collect(store.readStream(s, { direction: 'backwards', maxCount: 4 }));
        expect(back.map((e) => e.revision)).toEqual([9, 8, 7, 6]);
        const backFrom = await collect(store.readStream(s, { direction: 'backwards', fromRevision: 2 }));
        expect(backFrom.map((e) => e.revision)).toEqual([2, 1, 0]);
        expect(await store.streamRevision(s)).toBe(9);
      });

      it('reads to the end of a stream when a max count asks for more than is left', async () => {
        const s = `${uniquePrefix()}-end`;
        await store.append(s, testEvents(0, 200));
        const tail = await collect(store.readStream(s, { fromRevision: 150, maxCount: 100 }));
        expect(tail.map((e) => e.revision)).toEqual(Array.from({ length: 50 }, (_, i) => 150 + i));
        expect(await collect(store.readStream(s, { fromRevision: 199, maxCount: 5 }))).toHaveLength(1);
        // "anything after the last one?": nothing, at once
        expect(await collect(store.readStream(s, { fromRevision: 200, maxCount: 1 }))).toEqual([]);
        expect(await collect(store.readStream(s, { fromRevision: 500 }))).toEqual([]);
      });

      it('keeps metadata: occurredAt, causation, correlation, mode, run id, recordedAt', async () => {
        const s = `${uniquePrefix()}-m`;
        const cause = testEvent(1);
        const effect = testEvent(2);
        effect.metadata = {
          ...effect.metadata,
          causationId: cause.id,
          correlationId: cause.id,
          mode: 'backtest',
          runId: 'run-42',
        };
        const before = Date.now();
        await store.append(s, [cause, effect]);
        const [a, b] = await collect(store.readStream(s));
        expect(a!.id).toBe(cause.id);
        expect(a!.metadata).toMatchObject({
          occurredAt: cause.metadata.occurredAt,
          causationId: null,
          schemaVersion: 1,
        });
        expect(b!.metadata).toMatchObject({
          causationId: cause.id,
          correlationId: cause.id,
          mode: 'backtest',
          runId: 'run-42',
        });
        expect(b!.metadata.recordedAt).toBeGreaterThanOrEqual(before - 5_000);
        expect(b!.metadata.recordedAt).toBeLessThanOrEqual(Date.now() + 5_000);
      });

      it('reads nothing from a stream that does not exist', async () => {
        expect(await collect(store.readStream(`${uniquePrefix()}-none`))).toEqual([]);
        expect(await store.streamRevision(`${uniquePrefix()}-none`)).toBe(-1);
      });
    });

    describe('optimistic concurrency', () => {
      it('checks every kind of expected revision with a typed conflict error', async () => {
        const s = `${uniquePrefix()}-c`;
        await expect(store.append(s, [testEvent(0)], 'stream_exists')).rejects.toBeInstanceOf(
          WrongExpectedRevisionError,
        );
        await store.append(s, [testEvent(0)], 'no_stream');
        const conflict = await store.append(s, [testEvent(1)], 'no_stream').catch((e) => e);
        expect(conflict).toBeInstanceOf(WrongExpectedRevisionError);
        expect(conflict).toMatchObject({ stream: s, expected: 'no_stream', actual: 0 });
        await expect(store.append(s, [testEvent(1)], 5)).rejects.toMatchObject({ actual: 0, expected: 5 });
        await expect(store.append(s, [testEvent(1)], -1)).rejects.toBeInstanceOf(WrongExpectedRevisionError);
        expect((await store.append(s, [testEvent(1)], 0)).nextExpectedRevision).toBe(1);
        expect((await store.append(s, [testEvent(2)], 'stream_exists')).nextExpectedRevision).toBe(2);
        expect((await store.append(s, [testEvent(3), testEvent(4)], 'any')).nextExpectedRevision).toBe(4);
        const ns = await collect(store.readStream(s));
        expect(ns.map((e) => (e.data as { n: number }).n)).toEqual([0, 1, 2, 3, 4]);
      });

      it('a conflicting batch writes nothing', async () => {
        const p = uniquePrefix();
        const s = `${p}-c2`;
        await store.append(s, testEvents(0, 3));
        await expect(store.append(s, testEvents(3, 50), 1)).rejects.toBeInstanceOf(
          WrongExpectedRevisionError,
        );
        expect((await collect(store.readStream(s))).length).toBe(3);
        expect((await ns(p)).length).toBe(3);
      });
    });

    describe('idempotent append', () => {
      it('a retried batch is a no-op, whatever the expected revision said', async () => {
        const s = `${uniquePrefix()}-i`;
        const batch = testEvents(0, 5);
        const first = await store.append(s, batch, 'no_stream');
        const again = await store.append(s, batch, 'no_stream');
        expect(again).toEqual({ ...first, written: false });
        const againAny = await store.append(s, batch, 'any');
        expect(againAny.written).toBe(false);
        expect((await collect(store.readStream(s))).length).toBe(5);
      });

      it('refuses an id that is stored elsewhere or twice in a batch', async () => {
        const p = uniquePrefix();
        const e = testEvent(1);
        await store.append(`${p}-x`, [e]);
        const twice = testEvent(2);
        await expect(store.append(`${p}-y`, [twice, twice])).rejects.toBeInstanceOf(DuplicateEventIdError);
        if (backend.uniqueIdsAcrossStreams) {
          await expect(store.append(`${p}-y`, [e])).rejects.toBeInstanceOf(DuplicateEventIdError);
          await expect(store.append(`${p}-x`, [testEvent(3), e])).rejects.toBeInstanceOf(
            DuplicateEventIdError,
          );
        }
        expect((await ns(p)).length).toBe(1);
      });
    });

    describe('validation before writing', () => {
      it('refuses a batch with one invalid event and writes none of it, naming type, field and value', async () => {
        const p = uniquePrefix();
        const bad = testEvent(2);
        (bad.data as { n: unknown }).n = 'two';
        const error = await store.append(`${p}-v`, [testEvent(1), bad, testEvent(3)]).catch((e) => e);
        expect(error).toBeInstanceOf(InvalidEventError);
        expect(error.message).toContain('TestHappened');
        expect(error.message).toContain('data.n = "two"');
        expect(error.message).toContain('expected an integer');
        expect(await store.streamRevision(`${p}-v`)).toBe(-1);
      });

      it('refuses unknown types, bad ids, bad metadata and bad stream names', async () => {
        const p = uniquePrefix();
        const unknown = { ...testEvent(1), type: 'NoSuchThing' };
        await expect(store.append(`${p}-v`, [unknown])).rejects.toThrow(/type = "NoSuchThing"/);
        await expect(store.append(`${p}-v`, [{ ...testEvent(1), id: 'not-a-uuid' }])).rejects.toThrow(
          /id = "not-a-uuid"/,
        );
        const seconds = testEvent(1);
        seconds.metadata.occurredAt = 1_700_000_000;
        await expect(store.append(`${p}-v`, [seconds])).rejects.toThrow(/metadata.occurredAt = 1700000000/);
        await expect(store.append('bad stream name', [testEvent(1)])).rejects.toThrow(
          /stream = "bad stream name"/,
        );
        expect(await store.streamRevision(`${p}-v`)).toBe(-1);
      });
    });

    describe('the global order', () => {
      it('reads all from a checkpoint, with stream-prefix and type filters and a max count', async () => {
        const p = uniquePrefix();
        await store.append(`${p}-one`, testEvents(0, 3));
        await store.append(`${p}-two`, testEvents(100, 3));
        await store.append(`${p}-one`, testEvents(3, 2));
        const all = await ns(p);
        expect(all.map((e) => (e.data as { n: number }).n)).toEqual([0, 1, 2, 100, 101, 102, 3, 4]);
        for (let i = 1; i < all.length; i++) expect(all[i]!.position).toBeGreaterThan(all[i - 1]!.position);

        const afterThird = await collect(
          store.readAll({ after: all[2]!.position, filter: { streamPrefixes: [`${p}-`] } }),
        );
        expect(afterThird.map((e) => e.id)).toEqual(all.slice(3).map((e) => e.id));
        const two = await collect(store.readAll({ filter: { streamPrefixes: [`${p}-two`] } }));
        expect(two.map((e) => (e.data as { n: number }).n)).toEqual([100, 101, 102]);
        const limited = await collect(store.readAll({ maxCount: 2, filter: { streamPrefixes: [`${p}-`] } }));
        expect(limited.length).toBe(2);
        const byType = await collect(
          store.readAll({ filter: { streamPrefixes: [`${p}-`], types: ['CandleClosed'] } }),
        );
        expect(byType).toEqual([]);
        const small = await collect(store.readAll({ pageSize: 2, filter: { streamPrefixes: [`${p}-`] } }));
        expect(small.map((e) => e.id)).toEqual(all.map((e) => e.id));
        expect(await store.headPosition()).toBeGreaterThanOrEqual(all.at(-1)!.position);
      });
    });

    describe('subscriptions', () => {
      it('catches up, goes live, and resumes from a checkpoint (async iterator)', async () => {
        const p = uniquePrefix();
        await store.append(`${p}-s`, testEvents(0, 5));
        const sub = store.subscribeAll({ filter: { streamPrefixes: [`${p}-`] } });
        const seen: RecordedEvent[] = [];
        const done = (async () => {
          for await (const e of sub) {
            seen.push(e);
            if (seen.length === 5) await store.append(`${p}-s`, testEvents(5, 3));
            if (seen.length === 8) break;
          }
        })();
        await done;
        expect(seen.map((e) => (e.data as { n: number }).n)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
        const checkpoint = seen[4]!.position;
        await sub.close();

        const resumed = store.subscribeAll({ after: checkpoint, filter: { streamPrefixes: [`${p}-`] } });
        const rest: number[] = [];
        for await (const e of resumed) {
          rest.push((e.data as { n: number }).n);
          if (rest.length === 3) break;
        }
        await resumed.close();
        expect(rest).toEqual([5, 6, 7]);
      });

      it('works as an rxjs Observable and delivers appends made after it started', async () => {
        const p = uniquePrefix();
        const sub = store.subscribeAll({ filter: { streamPrefixes: [`${p}-`] } });
        const received = firstValueFrom(sub.asObservable().pipe(take(4), toArray()));
        await new Promise((r) => setTimeout(r, 50));
        await store.append(`${p}-o`, testEvents(0, 2));
        await store.append(`${p}-o2`, testEvents(10, 2));
        const events = await received;
        expect(events.map((e) => (e.data as { n: number }).n)).toEqual([0, 1, 10, 11]);
        await sub.close();
      });

      it('a filtered subscription moves its checkpoint past events it does not deliver', async () => {
        const p = uniquePrefix();
        const sub = store.subscribeAll({ filter: { streamPrefixes: [`${p}-wanted`] } });
        await store.append(`${p}-other`, testEvents(0, 3));
        const last = await store.append(`${p}-wanted`, testEvents(3, 1));
        for await (const e of sub) {
          expect(e.position).toBe(last.position);
          break;
        }
        await store.append(`${p}-other`, testEvents(10, 3));
        const otherHead = await store.headPosition();
        if (backend.name !== 'esdb') {
          // give the subscription a poll to look past the unwanted events
          const it = sub[Symbol.asyncIterator]();
          const pending = it.next();
          await new Promise((r) => setTimeout(r, 100));
          expect(sub.position).toBeGreaterThanOrEqual(otherHead);
          await sub.close();
          await pending;
        } else {
          await sub.close();
        }
      });
    });

    describe('properties', () => {
      it('concurrent writers never lose, duplicate or reorder an acknowledged event', async () => {
        await fc.assert(
          fc.asyncProperty(
            fc.array(
              fc.record({
                stream: fc.integer({ min: 0, max: 3 }),
                size: fc.integer({ min: 1, max: 20 }),
                optimistic: fc.boolean(),
              }),
              { minLength: 1, maxLength: 25 },
            ),
            async (ops) => {
              const p = uniquePrefix();
              const acknowledged = new Map<string, string[]>();
              let n = 0;
              // every op starts at once: they race on the same and on different streams
              await Promise.all(
                ops.map(async (op) => {
                  const stream = `${p}-${op.stream}`;
                  const events = testEvents(n, op.size);
                  n += op.size;
                  try {
                    const expected = op.optimistic ? await store.streamRevision(stream) : 'any';
                    await store.append(stream, events, expected);
                    const list = acknowledged.get(stream) ?? [];
                    acknowledged.set(stream, list);
                    list.push(...events.map((e) => e.id));
                  } catch (error) {
                    if (!(error instanceof WrongExpectedRevisionError)) throw error;
                  }
                }),
              );
              const all = await ns(p);
              // total order: strictly increasing positions, no event twice
              for (let i = 1; i < all.length; i++)
                expect(all[i]!.position).toBeGreaterThan(all[i - 1]!.position);
              expect(new Set(all.map((e) => e.id)).size).toBe(all.length);
              // nothing lost: exactly the acknowledged events, batches contiguous in their stream
              const stored = new Map<string, string[]>();
              for (const e of all) stored.set(e.stream, [...(stored.get(e.stream) ?? []), e.id]);
              expect(new Set(stored.keys())).toEqual(new Set(acknowledged.keys()));
              for (const [stream, ids] of acknowledged) {
                expect(new Set(stored.get(stream))).toEqual(new Set(ids));
                const revisions = (await collect(store.readStream(stream))).map((e) => e.revision);
                expect(revisions).toEqual(revisions.map((_, i) => i));
              }
            },
          ),
          { numRuns: backend.name === 'pglite' ? 15 : 25 },
        );
      });
    });
  });
}
