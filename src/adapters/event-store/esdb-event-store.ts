import {
  ANY,
  type AppendExpectedRevision,
  BACKWARDS,
  END,
  EventStoreDBClient,
  eventTypeFilter,
  FORWARDS,
  jsonEvent,
  NO_STREAM,
  type Position,
  START,
  STREAM_EXISTS,
  streamNameFilter,
  WrongExpectedVersionError,
} from '@eventstore/db-client';
import { Observable } from 'rxjs';
import {
  DuplicateEventIdError,
  StoreDataError,
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
import { readCandleRangeViaStream } from './candle-range-via-stream.js';

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

// biome-ignore lint/suspicious/noExplicitAny: the client's resolved-event types are wide unions
type AnyResolved = { event?: any };

/**
 * The event store on EventStoreDB / KurrentDB (gRPC client). The global position is the
 * event's prepare position in the transaction log; `$all` filters run on the server for
 * subscriptions. Differences from the PostgreSQL store, by design of the server:
 * event ids are unique per stream, not across the whole log.
 */
export class EsdbEventStore implements EventStore {
  readonly kind = 'esdb' as const;

  private constructor(
    private readonly client: EventStoreDBClient,
    readonly location: string,
    private readonly catalogue: EventCatalogue,
  ) {}

  static async connect(url: string, catalogue: EventCatalogue): Promise<EsdbEventStore> {
    if (!url)
      throw new UnavailableError(
        'no EventStoreDB address',
        'set ESDB_URL or --esdb-url, e.g. esdb://localhost:2113?tls=false',
      );
    const client = EventStoreDBClient.connectionString(url);
    const store = new EsdbEventStore(client, redactUrl(url), catalogue);
    try {
      await store.headPosition();
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
    const ids = new Set<string>();
    for (const event of events) {
      this.catalogue.assertValid(stream, event);
      if (ids.has(event.id)) throw new DuplicateEventIdError(event.id, 'earlier in the same batch');
      ids.add(event.id);
    }
    const replay = await this.alreadyStored(stream, events);
    if (replay) return replay;
    try {
      const result = await this.client.appendToStream(
        stream,
        events.map((e) =>
          jsonEvent({ id: e.id, type: e.type, data: e.data as never, metadata: toEsdbMetadata(e) }),
        ),
        { expectedRevision: toEsdbExpected(expected) },
      );
      return {
        nextExpectedRevision: Number(result.nextExpectedRevision),
        position: Number(result.position?.prepare ?? 0n),
        written: events.length > 0,
      };
    } catch (error) {
      if (error instanceof WrongExpectedVersionError) {
        const actual = error.actualVersion === NO_STREAM ? -1 : Number(error.actualVersion);
        throw new WrongExpectedRevisionError(stream, expected, actual);
      }
      throw error;
    }
  }

  /** A retried batch: its ids are the stream's last events, in order. */
  private async alreadyStored(stream: string, events: readonly NewEvent[]): Promise<AppendResult | null> {
    if (events.length === 0) return null;
    const tail: RecordedEvent[] = [];
    for await (const e of this.readStream(stream, { direction: 'backwards', maxCount: events.length }))
      tail.unshift(e);
    if (tail.length !== events.length || tail.some((e, i) => e.id !== events[i]!.id)) return null;
    const last = tail.at(-1)!;
    return { nextExpectedRevision: last.revision, position: last.position, written: false };
  }

  async streamRevision(stream: string): Promise<number> {
    for await (const e of this.readStream(stream, { direction: 'backwards', maxCount: 1 })) return e.revision;
    return -1;
  }

  async *readStream(stream: string, options: ReadStreamOptions = {}): AsyncIterable<RecordedEvent> {
    const backwards = options.direction === 'backwards';
    const read = this.client.readStream(stream, {
      direction: backwards ? BACKWARDS : FORWARDS,
      fromRevision:
        options.fromRevision !== undefined ? BigInt(options.fromRevision) : backwards ? END : START,
      ...(options.maxCount !== undefined ? { maxCount: options.maxCount } : {}),
    });
    try {
      for await (const resolved of read as AsyncIterable<AnyResolved>) yield this.decode(resolved);
    } catch (error) {
      if ((error as { type?: string }).type === 'stream-not-found') return;
      throw error;
    }
  }

  async *readAll(options: ReadAllOptions = {}): AsyncIterable<RecordedEvent> {
    const after = options.after ?? 0;
    const backwards = options.direction === 'backwards';
    const before = options.before ?? Number.POSITIVE_INFINITY;
    let remaining = options.maxCount ?? Number.POSITIVE_INFINITY;
    const read = backwards
      ? this.client.readAll({ direction: BACKWARDS, fromPosition: END })
      : this.client.readAll({ direction: FORWARDS, fromPosition: fromCheckpoint(after) });
    for await (const resolved of read as AsyncIterable<AnyResolved>) {
      if (remaining <= 0) break;
      if (!isUserEvent(resolved)) continue;
      const event = this.decode(resolved);
      const inRange = backwards ? event.position < before : event.position > after;
      if (!inRange || !matches(event, options.filter)) continue;
      remaining--;
      yield event;
    }
  }

  subscribeAll(options: SubscribeOptions = {}): Subscription {
    return new EsdbSubscription(this, options);
  }

  /** @internal used by EsdbSubscription */
  openSubscription(options: SubscribeOptions) {
    const filter = serverFilter(options.filter);
    return this.client.subscribeToAll({
      fromPosition: fromCheckpoint(options.after ?? 0),
      ...(filter ? { filter } : {}),
    });
  }

  async headPosition(): Promise<number> {
    const read = this.client.readAll({ direction: BACKWARDS, fromPosition: END, maxCount: 50 });
    for await (const resolved of read as AsyncIterable<AnyResolved>) {
      if (isUserEvent(resolved)) return Number(resolved.event.position.prepare);
    }
    return 0;
  }

  /** The bulk candle read, on readStream (no faster; see candle-range-via-stream.ts). */
  readCandleRange(request: CandleRangeRequest): Promise<CandleRange> {
    return readCandleRangeViaStream(this, request);
  }

  async stats(): Promise<StoreStats> {
    const streams = new Map<string, number>();
    const types = new Map<string, number>();
    let last = 0;
    for await (const e of this.readAll()) {
      streams.set(e.stream, e.revision);
      types.set(e.type, (types.get(e.type) ?? 0) + 1);
      last = e.position;
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
      events: [...types.values()].reduce((a, b) => a + b, 0),
      streams: streams.size,
      lastPosition: last,
      byCategory: [...categories].sort().map(([category, c]) => ({ category, ...c })),
      byType: [...types].sort().map(([type, events]) => ({ type, events })),
    };
  }

  async close(): Promise<void> {
    await this.client.dispose();
  }

  /** @internal */
  decode(resolved: AnyResolved): RecordedEvent {
    const e = resolved.event;
    const meta = e.metadata as EsdbMetadata | undefined;
    const position = Number(e.position?.prepare ?? -1);
    if (!isPlainObject(e.data) || !meta || typeof meta.occurredAt !== 'number') {
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
      recordedAt: (e.created as Date).getTime(),
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

class EsdbSubscription implements Subscription {
  private checkpoint: number;
  private live = false;
  private subscription: ReturnType<EsdbEventStore['openSubscription']> | undefined;
  private stopped = false;

  constructor(
    private readonly store: EsdbEventStore,
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
    await this.subscription?.unsubscribe();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<RecordedEvent> {
    this.subscription = this.store.openSubscription({ ...this.options, after: this.checkpoint });
    this.subscription.on('caughtUp', () => {
      this.live = true;
    });
    for await (const resolved of this.subscription as AsyncIterable<AnyResolved>) {
      if (this.stopped) return;
      if (!isUserEvent(resolved)) continue;
      const event = this.store.decode(resolved);
      if (event.position <= this.checkpoint || !matches(event, this.options.filter)) continue;
      this.checkpoint = event.position;
      yield event;
    }
  }

  asObservable(): Observable<RecordedEvent> {
    return new Observable((subscriber) => {
      (async () => {
        try {
          for await (const event of this) subscriber.next(event);
          subscriber.complete();
        } catch (error) {
          subscriber.error(error);
        }
      })();
      return () => void this.close();
    });
  }
}

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

function isUserEvent(resolved: AnyResolved): boolean {
  const e = resolved.event;
  return Boolean(e) && !String(e.type).startsWith('$') && !String(e.streamId).startsWith('$');
}

function matches(event: RecordedEvent, filter: AllFilter | undefined): boolean {
  if (!filter) return true;
  if (filter.types?.length && !filter.types.includes(event.type)) return false;
  if (filter.streamPrefixes?.length && !filter.streamPrefixes.some((p) => event.stream.startsWith(p)))
    return false;
  return true;
}

/** Server-side filter: stream prefixes when given (types are then checked here), else exact types. */
function serverFilter(filter: AllFilter | undefined) {
  if (filter?.streamPrefixes?.length) return streamNameFilter({ prefixes: [...filter.streamPrefixes] });
  if (filter?.types?.length) {
    const escaped = filter.types.map((t) => t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
    return eventTypeFilter({ regex: `^(${escaped.join('|')})$` });
  }
  return undefined;
}
