import {
  ANY,
  type AppendExpectedRevision,
  BACKWARDS,
  type AppendResult as ClientAppendResult,
  END,
  EventStoreDBClient,
  eventTypeFilter,
  FORWARDS,
  jsonEvent,
  MaxAppendSizeExceededError,
  NO_STREAM,
  type Position,
  START,
  STREAM_EXISTS,
  streamNameFilter,
  WrongExpectedVersionError,
} from '@eventstore/db-client';
import type { Observable } from 'rxjs';
import {
  ConfigError,
  DuplicateEventIdError,
  InvalidEventError,
  StoreDataError,
  type TradekernelError,
  UnavailableError,
  WrongExpectedRevisionError,
} from '../../domain/errors.js';
import type { EventCatalogue } from '../../domain/events/catalogue.js';
import type { Mode, NewEvent, RecordedEvent } from '../../domain/events/envelope.js';
import { isPlainObject } from '../../domain/events/schema.js';
import type {
  AllFilter,
  AppendResult,
  CandleRange,
  CandleRangeRequest,
  EventStore,
  ExpectedRevision,
  ReadAllOptions,
  ReadStreamOptions,
  StoreStats,
  SubscribeOptions,
  Subscription,
} from '../../domain/ports/event-store.js';
import { redactUrl } from '../sql/database.js';
import { appendNothing, checkAppend } from './append-checks.js';
import { readCandleRangeViaStream } from './candle-range-via-stream.js';
import { subscriptionObservable } from './observable.js';

/**
 * Bytes of JSON data and metadata per append. The server refuses an append above its
 * MaxAppendSize (default 1 MiB, counting data + metadata + 2 bytes per character of the type);
 * a larger batch is written as several appends of at most this much.
 */
export const APPEND_BUDGET_BYTES = 900 * 1024;

/**
 * How many of the stream's last events an append checks for the batch's ids: as many as the
 * batch has, at least 128 (a retried event after a few others), at most 4,096 (~1.5 MB of candles).
 */
export function tailWindow(batchLength: number): number {
  return Math.min(Math.max(batchLength, 128), 4096);
}

interface EsdbMetadata {
  occurredAt: number;
  causationId: string | null;
  correlationId: string | null;
  schemaVersion: number;
  mode?: Mode;
  runId?: string;
  // EventStoreDB's own conventions, so its projections ($by_correlation_id) see the chain too.
  $causationId?: string;
  $correlationId?: string;
}

/** The fields used here of a record as the client returns it (from a stream, $all or a subscription). */
interface RawEvent {
  id: string;
  streamId: string;
  type: string;
  revision: bigint;
  data: unknown;
  metadata?: unknown;
  created: Date;
  position?: Position;
}
type AnyResolved = { event?: RawEvent };

/** A read or subscription of the client: a Readable that must be cancelled to end its gRPC call. */
interface CancellableRead extends AsyncIterable<unknown> {
  cancel(): Promise<void>;
}

/**
 * The event store on EventStoreDB / KurrentDB (gRPC client). The global position is the
 * event's prepare position in the transaction log; `$all` filters run on the server for
 * subscriptions and in this process for reads (the client's reads of $all take no filter).
 *
 * Differences from the PostgreSQL store, by design of the server (docs/event-log.md):
 * - event ids: the server only checks an append's ids against its cache of recent writes, so
 *   this adapter checks them against the stream itself before writing (a retried batch, or the
 *   stream's last events); nothing stops one id from being stored in two streams;
 * - an append larger than APPEND_BUDGET_BYTES is written as consecutive appends, each atomic,
 *   the later ones at the exact revision the previous one left.
 */
export class EsdbEventStore implements EventStore {
  readonly kind = 'esdb' as const;
  /** The newest tradekernel event found by headPosition, and how far back from the end it has looked. */
  private head = 0;
  private scannedTo = 0;

  private constructor(
    private readonly client: EventStoreDBClient,
    readonly location: string,
    private readonly catalogue: EventCatalogue,
    private readonly appendBudget: number,
  ) {}

  static async connect(
    url: string,
    catalogue: EventCatalogue,
    options: { appendBudgetBytes?: number } = {},
  ): Promise<EsdbEventStore> {
    if (!url)
      throw new UnavailableError(
        'no EventStoreDB address',
        'set ESDB_URL or --esdb-url, e.g. esdb://localhost:2113?tls=false',
      );
    const client = EventStoreDBClient.connectionString(url);
    const store = new EsdbEventStore(
      client,
      redactUrl(url),
      catalogue,
      options.appendBudgetBytes ?? APPEND_BUDGET_BYTES,
    );
    try {
      // one record is enough to know the server answers
      const probe = cancelling(client.readAll({ direction: BACKWARDS, fromPosition: END, maxCount: 1 }));
      for await (const _ of probe) break;
    } catch (error) {
      await client.dispose();
      throw new UnavailableError(
        `cannot reach EventStoreDB at ${store.location}: ${(error as Error).message}`,
      );
    }
    return store;
  }

  async append(
    stream: string,
    events: readonly NewEvent[],
    expected: ExpectedRevision = 'any',
  ): Promise<AppendResult> {
    checkAppend(this.catalogue, stream, events, expected);
    if (events.length === 0) return appendNothing(this, stream, expected);
    const ends = chunkEnds(events, this.appendBudget);
    const plan = await planAppend(
      events.map((e) => e.id),
      ends,
      expected,
      (options) => this.storedRefs(stream, options),
    );
    if (plan.kind === 'stored') {
      return { nextExpectedRevision: plan.last.revision, position: plan.last.position, written: false };
    }
    if (plan.kind === 'duplicate') {
      throw new DuplicateEventIdError(
        plan.id,
        `in ${stream} at revision ${plan.revision}, and this batch is not a retry of the events stored there`,
      );
    }
    if (plan.kind === 'conflict') throw new WrongExpectedRevisionError(stream, expected, plan.current);

    let result = { nextExpectedRevision: -1, position: 0 };
    let revision = plan.expected;
    let start = plan.from;
    for (const end of ends) {
      if (end <= start) continue;
      result = await this.write(stream, events.slice(start, end), revision);
      revision = result.nextExpectedRevision;
      start = end;
    }
    return { ...result, written: true };
  }

  /** One append (a chunk of at most the byte budget), with the server's refusals made ours. */
  private async write(
    stream: string,
    events: readonly NewEvent[],
    expected: ExpectedRevision,
  ): Promise<{ nextExpectedRevision: number; position: number }> {
    const first = events[0]!.id;
    let result: ClientAppendResult;
    try {
      result = await this.client.appendToStream(
        stream,
        events.map((e) =>
          jsonEvent({ id: e.id, type: e.type, data: e.data as never, metadata: toEsdbMetadata(e) }),
        ),
        { expectedRevision: toEsdbExpected(expected) },
      );
    } catch (error) {
      if (error instanceof WrongExpectedVersionError) {
        const actual = typeof error.actualVersion === 'bigint' ? Number(error.actualVersion) : -1;
        throw rejectedAppend(stream, expected, actual, first);
      }
      if (error instanceof MaxAppendSizeExceededError) {
        throw appendTooLarge(stream, error.maxAppendSize, this.appendBudget);
      }
      throw error;
    }
    // `throwOnAppendFailure=false` in the connection string: the refusal comes back as a result
    // (whose revision the client gets wrong on batch appends, so it is read again)
    if (!result.success) throw rejectedAppend(stream, expected, await this.streamRevision(stream), first);
    const revision = Number(result.nextExpectedRevision);
    // an append the server found already written may come back without a position
    const position = result.position
      ? Number(result.position.prepare)
      : ((await this.storedRefs(stream, { direction: 'forwards', fromRevision: revision, maxCount: 1 }))[0]
          ?.position ?? 0);
    return { nextExpectedRevision: revision, position };
  }

  /** Id, revision and position of stored events, without decoding them. */
  private async storedRefs(stream: string, options: RefRead): Promise<StoredRef[]> {
    const refs: StoredRef[] = [];
    for await (const { event } of this.rawStream(stream, options)) {
      if (event) refs.push({ id: event.id, revision: Number(event.revision), position: positionOf(event) });
    }
    return refs;
  }

  async streamRevision(stream: string): Promise<number> {
    const [last] = await this.storedRefs(stream, { direction: 'backwards', maxCount: 1 });
    return last?.revision ?? -1;
  }

  async *readStream(stream: string, options: ReadStreamOptions = {}): AsyncIterable<RecordedEvent> {
    for await (const resolved of this.rawStream(stream, options)) yield this.decode(resolved);
  }

  private async *rawStream(stream: string, options: ReadStreamOptions): AsyncIterable<AnyResolved> {
    if (options.maxCount !== undefined && options.maxCount <= 0) return;
    const backwards = options.direction === 'backwards';
    const read = this.client.readStream(stream, {
      direction: backwards ? BACKWARDS : FORWARDS,
      fromRevision:
        options.fromRevision !== undefined ? BigInt(options.fromRevision) : backwards ? END : START,
      ...(options.maxCount !== undefined ? { maxCount: options.maxCount } : {}),
    });
    try {
      yield* cancelling(read) as AsyncIterable<AnyResolved>;
    } catch (error) {
      if ((error as { type?: string }).type === 'stream-not-found') return;
      throw error;
    }
  }

  async *readAll(options: ReadAllOptions = {}): AsyncIterable<RecordedEvent> {
    const backwards = options.direction === 'backwards';
    const after = options.after ?? 0;
    const before = options.before ?? Number.MAX_SAFE_INTEGER;
    let remaining = options.maxCount ?? Number.POSITIVE_INFINITY;
    if (remaining <= 0 || (backwards && before <= 0)) return;
    // $all also holds the server's own events: the count cannot go to the server, and the
    // filter is checked on the raw record, before anything is decoded
    const records = backwards ? this.allBackwards(before) : this.allForwards(after);
    for await (const resolved of records) {
      const event = resolved.event;
      if (!event || !wanted(event, options.filter)) continue;
      const position = positionOf(event);
      if (backwards ? position >= before : position <= after) continue;
      yield this.decode(resolved);
      if (--remaining <= 0) return;
    }
  }

  private allForwards(after: number): AsyncIterable<AnyResolved> {
    return cancelling(
      this.client.readAll({ direction: FORWARDS, fromPosition: fromCheckpoint(after) }),
    ) as AsyncIterable<AnyResolved>;
  }

  /**
   * Backwards from `before`, which the read leaves out (the server reads the records that end at
   * or before a position, and an event's record starts at its position).
   */
  private async *allBackwards(before: number): AsyncIterable<AnyResolved> {
    const fromEnd = () =>
      cancelling(
        this.client.readAll({ direction: BACKWARDS, fromPosition: END }),
      ) as AsyncIterable<AnyResolved>;
    if (before >= Number.MAX_SAFE_INTEGER) {
      yield* fromEnd();
      return;
    }
    let received = false;
    try {
      const at = BigInt(before);
      for await (const resolved of cancelling(
        this.client.readAll({ direction: BACKWARDS, fromPosition: { commit: at, prepare: at } }),
      )) {
        received = true;
        yield resolved as AnyResolved;
      }
    } catch (error) {
      if (received) throw error;
      // the server refuses a position that is not a record's start (inside a record, past the
      // end): read from the end instead, `before` is then applied here
      yield* fromEnd();
    }
  }

  subscribeAll(options: SubscribeOptions = {}): Subscription {
    return new EsdbSubscription(this, options);
  }

  /** @internal used by EsdbSubscription */
  openSubscription(options: SubscribeOptions, onCheckpoint: CheckpointCallback): OpenSubscription {
    const filter = serverFilter(options.filter, onCheckpoint);
    return this.client.subscribeToAll({
      fromPosition: fromCheckpoint(options.after ?? 0),
      ...(filter ? { filter } : {}),
    });
  }

  /**
   * Reads $all backwards from its end, past the server's own events, to the newest tradekernel
   * event, and cancels the read there; never further back than a previous call looked (the log
   * only grows at its end).
   */
  async headPosition(): Promise<number> {
    let newest: number | undefined;
    for await (const { event } of cancelling(
      this.client.readAll({ direction: BACKWARDS, fromPosition: END }),
    ) as AsyncIterable<AnyResolved>) {
      if (!event) continue;
      const position = positionOf(event);
      newest ??= position;
      if (position <= this.scannedTo) break;
      if (isUserEvent(event)) {
        this.head = Math.max(this.head, position);
        break;
      }
    }
    if (newest !== undefined) this.scannedTo = Math.max(this.scannedTo, newest);
    return this.head;
  }

  /** The bulk candle read, on readStream (no faster; see candle-range-via-stream.ts). */
  readCandleRange(request: CandleRangeRequest): Promise<CandleRange> {
    return readCandleRangeViaStream(this, request);
  }

  /** Counted on the raw records: nothing needs decoding (and a foreign event is counted, not refused). */
  async stats(): Promise<StoreStats> {
    const streams = new Map<string, number>();
    const types = new Map<string, number>();
    let events = 0;
    let last = 0;
    for await (const { event } of this.allForwards(0)) {
      if (!event || !isUserEvent(event)) continue;
      streams.set(event.streamId, Number(event.revision));
      types.set(event.type, (types.get(event.type) ?? 0) + 1);
      events++;
      last = positionOf(event);
    }
    const categories = new Map<string, { streams: number; events: number }>();
    for (const [stream, revision] of streams) {
      const category = stream.split('-')[0]!;
      const c = categories.get(category) ?? { streams: 0, events: 0 };
      c.streams++;
      c.events += revision + 1;
      categories.set(category, c);
    }
    return {
      kind: 'esdb',
      location: this.location,
      events,
      streams: streams.size,
      lastPosition: last,
      byCategory: [...categories].sort().map(([category, c]) => ({ category, ...c })),
      byType: [...types].sort().map(([type, count]) => ({ type, events: count })),
    };
  }

  async close(): Promise<void> {
    await this.client.dispose();
  }

  /** @internal */
  decode(resolved: AnyResolved): RecordedEvent {
    const e = resolved.event!;
    const meta = e.metadata as EsdbMetadata | undefined;
    const position = positionOf(e);
    if (!isPlainObject(e.data) || !isPlainObject(meta) || typeof meta.occurredAt !== 'number') {
      throw new StoreDataError(
        `event at position ${position} (stream ${e.streamId}, type ${e.type}) was not written by tradekernel`,
        'filter it out with a stream prefix, or use a dedicated EventStoreDB database',
      );
    }
    const metadata: RecordedEvent['metadata'] = {
      occurredAt: meta.occurredAt,
      causationId: meta.causationId ?? null,
      correlationId: meta.correlationId ?? null,
      schemaVersion: meta.schemaVersion,
      recordedAt: e.created.getTime(),
    };
    if (meta.mode) metadata.mode = meta.mode;
    if (meta.runId) metadata.runId = meta.runId;
    return this.catalogue.upcast({
      id: e.id,
      type: e.type,
      data: e.data,
      metadata,
      stream: e.streamId,
      revision: Number(e.revision),
      position,
    });
  }
}

// --- appends: byte budget, retries and duplicate ids ------------------------------------------

/** Bytes the server counts for an event against MaxAppendSize: data, metadata, 2 per type character. */
export function appendSize(event: NewEvent): number {
  return (
    Buffer.byteLength(JSON.stringify(event.data)) +
    Buffer.byteLength(JSON.stringify(toEsdbMetadata(event))) +
    2 * event.type.length
  );
}

/**
 * Where to cut a batch so that each append stays within `budget` bytes: the end index of each
 * chunk, in order, the last one the batch's length. Fills each chunk as far as it goes.
 */
export function chunkEnds(events: readonly NewEvent[], budget: number): number[] {
  const ends: number[] = [];
  let bytes = 0;
  events.forEach((event, i) => {
    const size = appendSize(event);
    if (size > budget) {
      throw new InvalidEventError(event.type, [
        {
          path: '(serialized data and metadata)',
          expected: `at most ${budget} bytes, the most one append to EventStoreDB carries`,
          value: size,
        },
      ]);
    }
    if (bytes + size > budget) {
      ends.push(i);
      bytes = 0;
    }
    bytes += size;
  });
  ends.push(events.length);
  return ends;
}

/** A stored event, as far as an append needs to know it. */
export interface StoredRef {
  id: string;
  revision: number;
  position: number;
}

export interface RefRead {
  direction: 'forwards' | 'backwards';
  /** default: the stream's end backwards */
  fromRevision?: number;
  maxCount: number;
}

export type AppendPlan =
  /** every event of the batch is stored already, in order, ending at `last`: a no-op */
  | { kind: 'stored'; last: StoredRef }
  /** write events [from, length) with `expected`; `from` > 0 resumes a batch whose first chunks are stored */
  | { kind: 'write'; from: number; expected: ExpectedRevision }
  | { kind: 'duplicate'; id: string; revision: number }
  /** the stream is past the expected revision, and the batch is not what is stored there */
  | { kind: 'conflict'; current: number };

/**
 * What an append must do, from the stream's last `window` events and, when the batch may be
 * stored further back, the events where it would be:
 * - its place is after the expected revision, or, for `any` and `stream_exists`, where the
 *   stream's last event is the end of one of the batch's chunks;
 * - the whole batch there: a retry, nothing to write;
 * - its first chunks there, ending the stream: an interrupted write of this batch, continued;
 * - otherwise an id of the batch among the events read is a duplicate, and a stream past the
 *   expected revision a conflict.
 * `ids` are distinct; `ends` are the chunks' end indexes (chunkEnds).
 */
export async function planAppend(
  ids: readonly string[],
  ends: readonly number[],
  expected: ExpectedRevision,
  read: (options: RefRead) => Promise<StoredRef[]>,
  window = tailWindow(ids.length),
): Promise<AppendPlan> {
  const n = ids.length;
  const tail = await read({ direction: 'backwards', maxCount: window });
  const current = tail[0]?.revision ?? -1;
  const byRevision = new Map(tail.map((r) => [r.revision, r]));
  let base: number;
  if (expected === 'any' || expected === 'stream_exists') {
    // the ids are distinct: at most one chunk ends with the stream's last event
    const end = ends.find((e) => e <= current + 1 && ids[e - 1] === tail[0]?.id) ?? 0;
    base = current - end;
  } else {
    base = expected === 'no_stream' ? -1 : expected;
  }
  if (base < current && !byRevision.has(base + 1)) {
    const place = await read({
      direction: 'forwards',
      fromRevision: base + 1,
      maxCount: Math.min(n, current - base),
    });
    for (const r of place) byRevision.set(r.revision, r);
  }
  let stored = 0;
  while (stored < n && byRevision.get(base + 1 + stored)?.id === ids[stored]) stored++;
  if (stored === n) return { kind: 'stored', last: byRevision.get(base + n)! };
  const resume = stored > 0 && base + stored === current && ends.includes(stored);
  const unwritten = new Set(ids.slice(resume ? stored : 0));
  for (const r of byRevision.values()) {
    if (unwritten.has(r.id)) return { kind: 'duplicate', id: r.id, revision: r.revision };
  }
  if (resume) return { kind: 'write', from: stored, expected: current };
  if (base < current) return { kind: 'conflict', current };
  return { kind: 'write', from: 0, expected };
}

/**
 * The server refused an append (WrongExpectedVersion). Under `any`, and under `stream_exists`
 * on a stream that exists, the revision was not the reason: the server found the batch's first
 * id among its recent writes to this stream but not the rest (CorruptedIdempotency, which it
 * reports as WrongExpectedVersion).
 */
export function rejectedAppend(
  stream: string,
  expected: ExpectedRevision,
  actual: number,
  firstId: string,
): TradekernelError {
  if (expected === 'any' || (expected === 'stream_exists' && actual >= 0)) {
    return new DuplicateEventIdError(firstId, `in ${stream}, but the rest of its batch is not`);
  }
  return new WrongExpectedRevisionError(stream, expected, actual);
}

/** The server's MaxAppendSize is below the adapter's budget. */
export function appendTooLarge(stream: string, maxAppendSize: number, budget: number): ConfigError {
  return new ConfigError(
    `EventStoreDB refused an append to ${stream}: it is over the server's MaxAppendSize of ${maxAppendSize} bytes`,
    `tradekernel writes appends of up to ${budget} bytes; set MaxAppendSize to at least 1048576 (its default) in the server's configuration (eventstore/kurrentdb.conf)`,
  );
}

// --- reads and subscriptions ------------------------------------------------------------------

/**
 * Iterates a read of the client; leaving early (break, return, an error) cancels its gRPC call,
 * which otherwise keeps streaming the rest of the read.
 */
export async function* cancelling(read: CancellableRead): AsyncIterable<unknown> {
  let finished = false;
  try {
    for await (const item of read) yield item;
    finished = true;
  } finally {
    if (!finished) await read.cancel().catch(() => {});
  }
}

export function matchesFilter(stream: string, type: string, filter: AllFilter | undefined): boolean {
  if (!filter) return true;
  if (filter.types?.length && !filter.types.includes(type)) return false;
  if (filter.streamPrefixes?.length && !filter.streamPrefixes.some((p) => stream.startsWith(p))) return false;
  return true;
}

/**
 * A filtered subscription's checkpoint as a global position: only one with commit = prepare
 * (as an event's own position is) can be resumed from as {commit: p, prepare: p}.
 */
export function checkpointPosition(position: Position): number | undefined {
  return position.commit === position.prepare ? Number(position.prepare) : undefined;
}

type CheckpointCallback = (subscription: OpenSubscription, position: Position) => void;

/** The part of the client's $all subscription (a Readable of resolved events) used here. */
export interface OpenSubscription extends AsyncIterable<unknown> {
  on(event: 'caughtUp', listener: () => void): unknown;
  push(chunk: unknown): boolean;
  destroy(): unknown;
  unsubscribe(): Promise<void>;
}

export interface SubscriptionSource {
  openSubscription(options: SubscribeOptions, onCheckpoint: CheckpointCallback): OpenSubscription;
  decode(resolved: AnyResolved): RecordedEvent;
}

/** Queued in the subscription's stream behind the events received before it. */
class CheckpointMark {
  constructor(readonly position: number) {}
}

/**
 * Catch-up then live on the server's subscription to $all, opened anew by each iteration from
 * the last position. Leaving the loop, close(), or a new iteration ends the gRPC call.
 */
export class EsdbSubscription implements Subscription {
  private checkpoint: number;
  private live = false;
  private stopped = false;
  private current: OpenSubscription | undefined;

  constructor(
    private readonly source: SubscriptionSource,
    private readonly options: SubscribeOptions,
  ) {
    this.checkpoint = options.after ?? 0;
  }

  get position() {
    return this.checkpoint;
  }

  get caughtUp() {
    return this.live;
  }

  async close() {
    this.stopped = true;
    await this.release();
  }

  /** Ends the open subscription: destroyed, an iteration waiting on it finishes; unsubscribed, the call ends. */
  private async release() {
    const subscription = this.current;
    this.current = undefined;
    if (!subscription) return;
    subscription.destroy();
    await subscription.unsubscribe();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<RecordedEvent> {
    if (this.current) await this.release();
    if (this.stopped) return;
    // The client reports a checkpoint before it passes on the events received after it, but the
    // events received before it may still wait in its buffer: queued behind them, the mark moves
    // the position only once they are delivered.
    const subscription = this.source.openSubscription(
      { ...this.options, after: this.checkpoint },
      (sub, position) => {
        const at = checkpointPosition(position);
        if (at !== undefined) sub.push(new CheckpointMark(at));
      },
    );
    this.current = subscription;
    subscription.on('caughtUp', () => {
      this.live = true;
    });
    try {
      for await (const item of subscription) {
        if (this.stopped || this.current !== subscription) return;
        if (item instanceof CheckpointMark) {
          this.checkpoint = Math.max(this.checkpoint, item.position);
          continue;
        }
        const event = (item as AnyResolved).event;
        if (!event) continue;
        const position = positionOf(event);
        if (position <= this.checkpoint) continue;
        this.checkpoint = position;
        if (!wanted(event, this.options.filter)) continue;
        yield this.source.decode(item as AnyResolved);
      }
    } catch (error) {
      // a released subscription ends the loop with a premature-close error
      if (!this.stopped && this.current === subscription) throw error;
    } finally {
      if (this.current === subscription) await this.release();
    }
  }

  asObservable(): Observable<RecordedEvent> {
    return subscriptionObservable(this);
  }
}

// --- mapping ----------------------------------------------------------------------------------

function toEsdbMetadata(event: NewEvent): EsdbMetadata {
  const m = event.metadata;
  const out: EsdbMetadata = {
    occurredAt: m.occurredAt,
    causationId: m.causationId,
    correlationId: m.correlationId,
    schemaVersion: m.schemaVersion,
  };
  if (m.mode) out.mode = m.mode;
  if (m.runId) out.runId = m.runId;
  if (m.causationId) out.$causationId = m.causationId;
  if (m.correlationId) out.$correlationId = m.correlationId;
  return out;
}

function toEsdbExpected(expected: ExpectedRevision): AppendExpectedRevision {
  if (expected === 'any') return ANY;
  if (expected === 'no_stream' || expected === -1) return NO_STREAM;
  if (expected === 'stream_exists') return STREAM_EXISTS;
  return BigInt(expected);
}

function fromCheckpoint(after: number): typeof START | Position {
  return after > 0 ? { commit: BigInt(after), prepare: BigInt(after) } : START;
}

function positionOf(event: RawEvent): number {
  return Number(event.position?.prepare ?? -1);
}

/** Not one of the server's own events ($stats, $settings, stream metadata...). */
function isUserEvent(event: RawEvent): boolean {
  return !event.type.startsWith('$') && !event.streamId.startsWith('$');
}

function wanted(event: RawEvent, filter: AllFilter | undefined): boolean {
  return isUserEvent(event) && matchesFilter(event.streamId, event.type, filter);
}

/**
 * Server-side filter: stream prefixes when given (types are then checked here), else exact
 * types. Its checkpoints come back through onCheckpoint.
 */
function serverFilter(filter: AllFilter | undefined, onCheckpoint: CheckpointCallback) {
  const checkpointReached = onCheckpoint as (subscription: unknown, position: Position) => void;
  if (filter?.streamPrefixes?.length) {
    return streamNameFilter({ prefixes: [...filter.streamPrefixes], checkpointReached });
  }
  if (filter?.types?.length) {
    const escaped = filter.types.map((t) => t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
    return eventTypeFilter({ regex: `^(${escaped.join('|')})$`, checkpointReached });
  }
  return undefined;
}
