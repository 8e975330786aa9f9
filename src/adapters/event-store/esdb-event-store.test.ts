import { randomUUID } from 'node:crypto';
import { Readable, Transform } from 'node:stream';
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import {
  ConfigError,
  DuplicateEventIdError,
  InvalidEventError,
  WrongExpectedRevisionError,
} from '../../domain/errors.js';
import type { NewEvent, RecordedEvent } from '../../domain/events/envelope.js';
import type { ExpectedRevision, SubscribeOptions } from '../../domain/ports/event-store.js';
import {
  type AppendPlan,
  appendSize,
  appendTooLarge,
  cancelling,
  checkpointPosition,
  chunkEnds,
  EsdbSubscription,
  matchesFilter,
  type OpenSubscription,
  planAppend,
  type RefRead,
  rejectedAppend,
  type StoredRef,
} from './esdb-event-store.js';

/**
 * The EventStoreDB adapter's logic that needs no server: the byte budget, the append plan
 * (retries, interrupted chunked writes, duplicate ids), error mapping, filters, cancelled reads
 * and the subscription's checkpoints and lifecycle. test/contract runs the rest against a node
 * when ESDB_URL is set.
 */

function event(note = '', type = 'TestHappened'): NewEvent {
  return {
    id: randomUUID(),
    type,
    data: { n: 1, note },
    metadata: { occurredAt: 1_700_000_000_000, causationId: null, correlationId: null, schemaVersion: 1 },
  };
}

describe('chunkEnds', () => {
  it('counts bytes, not characters', () => {
    expect(appendSize(event('é'.repeat(100))) - appendSize(event('e'.repeat(100)))).toBe(100);
  });

  it('cuts a batch in order into chunks under the budget, each as full as it goes', () => {
    fc.assert(
      fc.property(
        fc.array(fc.nat({ max: 3000 }), { maxLength: 60 }),
        fc.integer({ min: 3200, max: 20_000 }),
        (lengths, budget) => {
          const events = lengths.map((length) => event('x'.repeat(length)));
          const sizes = events.map(appendSize);
          const ends = chunkEnds(events, budget);
          expect(ends.at(-1)).toBe(events.length);
          let start = 0;
          ends.forEach((end, i) => {
            if (events.length > 0) expect(end).toBeGreaterThan(start);
            const bytes = sizes.slice(start, end).reduce((a, b) => a + b, 0);
            expect(bytes).toBeLessThanOrEqual(budget);
            if (i < ends.length - 1) expect(bytes + sizes[end]!).toBeGreaterThan(budget);
            start = end;
          });
        },
      ),
    );
  });

  it('refuses an event larger than the budget by itself, naming its type and size', () => {
    const big = event('x'.repeat(2000), 'CandleClosed');
    const error = (() => {
      try {
        chunkEnds([event(), big], 1000);
      } catch (e) {
        return e;
      }
    })() as InvalidEventError;
    expect(error).toBeInstanceOf(InvalidEventError);
    expect(error.message).toContain('CandleClosed');
    expect(error.message).toContain(String(appendSize(big)));
  });
});

/** A stream in memory, read as the adapter reads the server (maxCount, from a revision). */
function memoryStream(ids: readonly string[]) {
  const refs: StoredRef[] = ids.map((id, revision) => ({ id, revision, position: 1000 + 10 * revision }));
  const reads: RefRead[] = [];
  const read = async (options: RefRead) => {
    reads.push(options);
    if ((options.fromRevision ?? 0) < 0) throw new Error(`read from revision ${options.fromRevision}`);
    if (options.direction === 'backwards') {
      const from = options.fromRevision ?? refs.length - 1;
      return refs.slice(Math.max(0, from - options.maxCount + 1), from + 1).reverse();
    }
    const from = options.fromRevision ?? 0;
    return refs.slice(from, from + options.maxCount);
  };
  return { refs, reads, read };
}

const fresh = (count: number) => Array.from({ length: count }, () => randomUUID());

describe('planAppend', () => {
  const plan = (
    stored: string[],
    ids: string[],
    ends: number[],
    expected: ExpectedRevision,
    window?: number,
  ) => planAppend(ids, ends, expected, memoryStream(stored).read, window);

  it('a batch that ends the stream is a retry under any expected revision that fits', async () => {
    const before = fresh(3);
    const batch = fresh(4);
    const stream = [...before, ...batch];
    for (const expected of ['any', 'stream_exists', 2] as const) {
      expect(await plan(stream, batch, [4], expected)).toEqual({
        kind: 'stored',
        last: { id: batch[3], revision: 6, position: 1060 },
      });
    }
  });

  it('finds a retried batch anywhere in the stream when the expected revision is a number', async () => {
    const batches = [fresh(5), fresh(5), fresh(5)];
    const { read, reads } = memoryStream(batches.flat());
    // window 2: the first batch is far behind the last events read
    const result = await planAppend(batches[0]!, [5], 'no_stream', read, 2);
    expect(result).toMatchObject({ kind: 'stored', last: { revision: 4 } });
    expect(reads).toEqual([
      { direction: 'backwards', maxCount: 2 },
      { direction: 'forwards', fromRevision: 0, maxCount: 5 },
    ]);
  });

  it('refuses ids already in the stream, before or after new ones (the server would store a duplicate)', async () => {
    const stored = fresh(3);
    const [one, two] = fresh(2);
    expect(await plan(stored, [...stored, one!, two!], [5], 'any')).toMatchObject({ kind: 'duplicate' });
    expect(await plan(stored, [one!, stored[2]!], [2], 'any')).toEqual({
      kind: 'duplicate',
      id: stored[2],
      revision: 2,
    });
    expect(await plan(stored, [one!, stored[0]!], [2], 2)).toEqual({
      kind: 'duplicate',
      id: stored[0],
      revision: 0,
    });
  });

  it('continues a chunked batch whose first chunks are stored, at the exact revision', async () => {
    const before = fresh(2);
    const batch = fresh(9);
    const ends = [3, 6, 9];
    const stream = [...before, ...batch.slice(0, 6)];
    expect(await plan(stream, batch, ends, 1)).toEqual({ kind: 'write', from: 6, expected: 7 });
    expect(await plan(stream, batch, ends, 'any')).toEqual({ kind: 'write', from: 6, expected: 7 });
    // the same ids cut elsewhere are no chunk of this batch: a duplicate, not a retry
    expect(await plan([...before, ...batch.slice(0, 5)], batch, ends, 1)).toMatchObject({
      kind: 'duplicate',
    });
  });

  it('a stream past the expected revision is a conflict; ahead of it, the server decides', async () => {
    const stored = fresh(4);
    expect(await plan(stored, fresh(2), [2], 1)).toEqual({ kind: 'conflict', current: 3 });
    expect(await plan(stored, fresh(2), [2], 'no_stream')).toEqual({ kind: 'conflict', current: 3 });
    expect(await plan(stored, fresh(2), [2], 9)).toEqual({ kind: 'write', from: 0, expected: 9 });
    expect(await plan([], fresh(2), [2], 'stream_exists')).toEqual({
      kind: 'write',
      from: 0,
      expected: 'stream_exists',
    });
    expect(await plan(stored, fresh(2), [2], 3)).toEqual({ kind: 'write', from: 0, expected: 3 });
  });

  it('never writes an id it has seen stored, and only continues what ends the stream', async () => {
    await fc.assert(
      fc.asyncProperty(
        // the batch: its size and chunk ends
        fc.integer({ min: 1, max: 12 }),
        fc.uniqueArray(fc.integer({ min: 1, max: 11 }), { maxLength: 3 }),
        // the stream: fresh ids and ids of the batch, as slots
        fc.array(fc.oneof(fc.constant(-1), fc.nat({ max: 11 })), { maxLength: 20 }),
        fc.oneof(
          fc.constantFrom<ExpectedRevision>('any', 'stream_exists', 'no_stream'),
          fc.integer({ min: -1, max: 22 }),
        ),
        fc.integer({ min: 1, max: 12 }),
        fc.boolean(),
        async (n, cuts, slots, expected, window, storeBatchPrefix) => {
          const ids = fresh(n);
          const ends = [...cuts.filter((c) => c < n).sort((a, b) => a - b), n];
          const used = new Set<number>();
          const stream = slots.flatMap((slot) => {
            if (slot < 0 || slot >= n || used.has(slot)) return [randomUUID()];
            used.add(slot);
            return [ids[slot]!];
          });
          // half of the cases end with a chunk-aligned prefix of the batch (an interrupted write)
          if (storeBatchPrefix) {
            const k = ends[Math.floor(used.size % ends.length)]!;
            for (let i = 0; i < k; i++) if (!stream.includes(ids[i]!)) stream.push(ids[i]!);
          }
          const current = stream.length - 1;
          const result: AppendPlan = await planAppend(ids, ends, expected, memoryStream(stream).read, window);
          const endsWith = (prefix: string[]) =>
            prefix.length <= stream.length &&
            prefix.every((id, i) => stream[stream.length - prefix.length + i] === id);
          switch (result.kind) {
            case 'stored': {
              const at = result.last.revision - n + 1;
              expect(stream.slice(at, at + n)).toEqual(ids);
              if (expected === 'any' || expected === 'stream_exists')
                expect(result.last.revision).toBe(current);
              else expect(at).toBe((expected === 'no_stream' ? -1 : expected) + 1);
              break;
            }
            case 'write': {
              const rest = new Set(ids.slice(result.from));
              const seen = stream.slice(Math.max(0, stream.length - window));
              expect(seen.some((id) => rest.has(id))).toBe(false);
              if (result.from === 0) {
                expect(result.expected).toBe(expected);
                expect(seen.some((id) => ids.includes(id))).toBe(false);
                // a stream past a numeric expected revision is never written to
                if (expected === 'no_stream') expect(current).toBe(-1);
                if (typeof expected === 'number') expect(expected).toBeGreaterThanOrEqual(current);
              } else {
                expect(ends).toContain(result.from);
                expect(endsWith(ids.slice(0, result.from))).toBe(true);
                expect(result.expected).toBe(current);
              }
              break;
            }
            case 'duplicate':
              expect(ids).toContain(result.id);
              expect(stream[result.revision]).toBe(result.id);
              break;
            case 'conflict':
              expect(typeof expected === 'number' || expected === 'no_stream').toBe(true);
              expect(expected === 'no_stream' ? -1 : (expected as number)).toBeLessThan(current);
              break;
          }
          // complete: a batch that ends the stream, or its first chunks, are recognised
          if (endsWith(ids) && (expected === 'any' || expected === current - n)) {
            expect(result.kind).toBe('stored');
          }
          const k = ends.find((end) => end < n && endsWith(ids.slice(0, end)));
          const restStored = ids.slice(k).some((id) => stream.includes(id));
          if (k !== undefined && !restStored && (expected === 'any' || expected === current - k)) {
            expect(result).toEqual({ kind: 'write', from: k, expected: current });
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('errors', () => {
  it('a refusal under any is a partial retry, never a revision conflict', () => {
    expect(rejectedAppend('s', 'any', 4, 'id-1')).toBeInstanceOf(DuplicateEventIdError);
    expect(rejectedAppend('s', 'stream_exists', 4, 'id-1')).toBeInstanceOf(DuplicateEventIdError);
    expect(rejectedAppend('s', 'stream_exists', -1, 'id-1')).toBeInstanceOf(WrongExpectedRevisionError);
    expect(rejectedAppend('s', 3, 5, 'id-1')).toMatchObject({ stream: 's', expected: 3, actual: 5 });
    expect(rejectedAppend('s', 'no_stream', 0, 'id-1')).toMatchObject({ expected: 'no_stream', actual: 0 });
  });

  it('an append over the server limit names MaxAppendSize and the fix', () => {
    const error = appendTooLarge('market-x', 500_000, 921_600);
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toContain('MaxAppendSize of 500000 bytes');
    expect(error.hint).toContain('MaxAppendSize');
  });
});

describe('filters and checkpoints', () => {
  it('matches stream prefixes and types on the raw record', () => {
    expect(matchesFilter('market-a', 'CandleClosed', undefined)).toBe(true);
    expect(matchesFilter('market-a', 'CandleClosed', { streamPrefixes: ['market-'] })).toBe(true);
    expect(matchesFilter('paper-a', 'CandleClosed', { streamPrefixes: ['market-'] })).toBe(false);
    expect(matchesFilter('market-a', 'CandleClosed', { types: ['OrderFilled'] })).toBe(false);
    expect(
      matchesFilter('market-a', 'CandleClosed', { streamPrefixes: ['m'], types: ['CandleClosed'] }),
    ).toBe(true);
  });

  it('takes a checkpoint only when its commit and prepare positions agree', () => {
    expect(checkpointPosition({ commit: 500n, prepare: 500n })).toBe(500);
    expect(checkpointPosition({ commit: 500n, prepare: 0n })).toBeUndefined();
  });
});

describe('cancelling', () => {
  const read = (items: unknown[], fail?: Error) => {
    const stream = Readable.from(
      (async function* () {
        yield* items;
        if (fail) throw fail;
      })(),
    );
    return Object.assign(stream, { cancel: vi.fn(async () => {}) });
  };

  it('cancels a read left early, and only then', async () => {
    const early = read([1, 2, 3]);
    for await (const item of cancelling(early)) if (item === 1) break;
    expect(early.cancel).toHaveBeenCalledTimes(1);

    const whole = read([1, 2, 3]);
    const seen: unknown[] = [];
    for await (const item of cancelling(whole)) seen.push(item);
    expect(seen).toEqual([1, 2, 3]);
    expect(whole.cancel).not.toHaveBeenCalled();

    const failing = read([1], new Error('gone'));
    await expect(
      (async () => {
        for await (const _ of cancelling(failing));
      })(),
    ).rejects.toThrow('gone');
    expect(failing.cancel).toHaveBeenCalledTimes(1);
  });
});

describe('EsdbSubscription', () => {
  type Fake = OpenSubscription &
    Transform & { unsubscribe: ReturnType<typeof vi.fn>; after: number | undefined };

  /** Subscriptions as the client makes them: checkpoints reach the callback in stream order. */
  function source() {
    const opened: Fake[] = [];
    return {
      opened,
      openSubscription(options: SubscribeOptions, onCheckpoint: (sub: OpenSubscription, p: never) => void) {
        const sub: Fake = Object.assign(
          new Transform({
            objectMode: true,
            transform(item: { checkpoint?: unknown }, _encoding, next) {
              if (item.checkpoint) {
                onCheckpoint(sub, item.checkpoint as never);
                next();
              } else next(null, item);
            },
          }),
          { unsubscribe: vi.fn(async () => {}), after: options.after },
        );
        opened.push(sub);
        return sub;
      },
      decode: (resolved: { event?: { id: string; streamId: string; position?: { prepare: bigint } } }) =>
        ({
          id: resolved.event!.id,
          stream: resolved.event!.streamId,
          position: Number(resolved.event!.position!.prepare),
        }) as RecordedEvent,
    };
  }

  const record = (position: number, streamId = 'market-a', type = 'CandleClosed') => ({
    event: {
      id: `e${position}`,
      streamId,
      type,
      revision: 0n,
      data: {},
      created: new Date(0),
      position: { commit: BigInt(position), prepare: BigInt(position) },
    },
  });
  const checkpoint = (commit: number, prepare = commit) => ({
    checkpoint: { commit: BigInt(commit), prepare: BigInt(prepare) },
  });
  const tick = () => new Promise((r) => setImmediate(r));

  it('delivers the events received before a checkpoint, then moves to it', async () => {
    const src = source();
    const sub = new EsdbSubscription(src, { filter: { streamPrefixes: ['market-'] } });
    const it = sub[Symbol.asyncIterator]();
    const first = it.next();
    const server = src.opened[0]!;
    for (const item of [record(10), record(20), checkpoint(50), checkpoint(70, 0)]) server.write(item);
    expect((await first).value.position).toBe(10);
    expect(sub.position).toBe(10);
    expect((await it.next()).value.position).toBe(20);
    expect(sub.position).toBe(20);
    const third = it.next();
    await tick();
    expect(sub.position).toBe(50); // a checkpoint whose commit and prepare differ is left out
    server.write(record(80));
    expect((await third).value.position).toBe(80);
    await sub.close();
    expect(server.unsubscribe).toHaveBeenCalledTimes(1);
  });

  it('moves past events it does not deliver (the server own, or filtered out here)', async () => {
    const src = source();
    const sub = new EsdbSubscription(src, { filter: { types: ['OrderFilled'] } });
    const it = sub[Symbol.asyncIterator]();
    const next = it.next();
    const server = src.opened[0]!;
    server.write(record(10, '$stats-1', '$statsCollected'));
    server.write(record(20, 'market-a', 'CandleClosed'));
    await tick();
    expect(sub.position).toBe(20);
    server.write(record(30, 'paper-a', 'OrderFilled'));
    expect((await next).value.position).toBe(30);
    await sub.close();
  });

  it('leaving the loop ends the call; iterating again resumes from the position with a new one', async () => {
    const src = source();
    const sub = new EsdbSubscription(src, { after: 5 });
    const it = sub[Symbol.asyncIterator]();
    const first = it.next();
    src.opened[0]!.write(record(10));
    expect((await first).value.position).toBe(10);
    await it.return?.();
    expect(src.opened[0]!.unsubscribe).toHaveBeenCalledTimes(1);

    const again = sub[Symbol.asyncIterator]();
    const next = again.next();
    expect(src.opened.map((s) => s.after)).toEqual([5, 10]);
    src.opened[1]!.write(record(10)); // the server resends nothing at or before the checkpoint; if it did
    src.opened[1]!.write(record(11));
    expect((await next).value.position).toBe(11);
    await sub.close();
    expect(src.opened[1]!.unsubscribe).toHaveBeenCalledTimes(1);
    expect(src.opened[0]!.unsubscribe).toHaveBeenCalledTimes(1);
  });

  it('a second iteration releases the first, which ends; close ends a waiting one', async () => {
    const src = source();
    const sub = new EsdbSubscription(src, {});
    const one = sub[Symbol.asyncIterator]();
    const waiting = one.next();
    const two = sub[Symbol.asyncIterator]();
    const twoNext = two.next();
    expect(await waiting).toEqual({ done: true, value: undefined });
    expect(src.opened[0]!.unsubscribe).toHaveBeenCalledTimes(1);
    await sub.close();
    expect(await twoNext).toEqual({ done: true, value: undefined });
    expect(src.opened[1]!.unsubscribe).toHaveBeenCalledTimes(1);
    expect(await sub[Symbol.asyncIterator]().next()).toEqual({ done: true, value: undefined });
    expect(src.opened.length).toBe(2);
  });

  it('passes a server error on', async () => {
    const src = source();
    const sub = new EsdbSubscription(src, {});
    const next = sub[Symbol.asyncIterator]().next();
    await tick();
    src.opened[0]!.destroy(new Error('connection lost'));
    await expect(next).rejects.toThrow('connection lost');
    expect(src.opened[0]!.unsubscribe).toHaveBeenCalledTimes(1);
  });
});
