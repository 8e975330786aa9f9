import { InvalidEventError, StoreDataError } from '../errors.js';
import {
  EVENT_TYPE_PATTERN,
  type EventMetadata,
  MODES,
  type NewEvent,
  type RecordedEvent,
  RUN_ID_PATTERN,
  STREAM_PATTERN,
} from './envelope.js';
import {
  epochMs,
  nullable,
  number,
  object,
  oneOf,
  optional,
  type Schema,
  string,
  uuid,
  validate,
} from './schema.js';

/** Turns data of schema version `from` into version `from + 1`. */
export type Upcaster = (data: Record<string, unknown>) => Record<string, unknown>;

export interface EventDefinition<Type extends string = string, Data = unknown> {
  type: Type;
  /** The current version of the data shape. Starts at 1. */
  schemaVersion: number;
  schema: Schema<Data>;
  /** upcasters[v] turns version v into v + 1, for every v below schemaVersion. */
  upcasters?: Record<number, Upcaster>;
  /** One line for docs and `store stats`. */
  description: string;
}

export function defineEvent<Type extends string, Data>(
  def: EventDefinition<Type, Data>,
): EventDefinition<Type, Data> {
  for (let v = 1; v < def.schemaVersion; v++) {
    if (!def.upcasters?.[v]) throw new Error(`${def.type}: missing upcaster from schema version ${v}`);
  }
  return def;
}

const metadataSchema = object({
  occurredAt: epochMs,
  causationId: nullable(uuid),
  correlationId: nullable(uuid),
  schemaVersion: number({ integer: true, min: 1, max: 32_767 }),
  mode: optional(oneOf(MODES)),
  runId: optional(string({ pattern: RUN_ID_PATTERN, patternName: 'a run id (letters, digits, _ . : -)' })),
});

/**
 * The registry of event types. Validates events before they are written and upcasts old
 * versions when they are read back, so every consumer sees only the current shape.
 */
export class EventCatalogue {
  private readonly definitions = new Map<string, EventDefinition>();

  constructor(definitions: Iterable<EventDefinition> = []) {
    for (const def of definitions) this.register(def);
  }

  register(def: EventDefinition): this {
    if (!EVENT_TYPE_PATTERN.test(def.type)) throw new Error(`event type "${def.type}" must be PascalCase`);
    if (this.definitions.has(def.type)) throw new Error(`event type ${def.type} registered twice`);
    this.definitions.set(def.type, def);
    return this;
  }

  get(type: string): EventDefinition | undefined {
    return this.definitions.get(type);
  }

  types(): EventDefinition[] {
    return [...this.definitions.values()];
  }

  /** Throws InvalidEventError naming the type, field and value of every problem. */
  assertValid(stream: string, event: NewEvent): void {
    const def = this.definitions.get(event?.type);
    // Fast path: the schemas' fast tests, no issue list built (every appended event passes here).
    if (
      def !== undefined &&
      STREAM_PATTERN.test(stream) &&
      uuid.test!(event.id) &&
      metadataSchema.test!(event.metadata) &&
      event.metadata.schemaVersion === def.schemaVersion &&
      def.schema.test?.(event.data)
    ) {
      return;
    }
    const type = typeof event?.type === 'string' ? event.type : '(no type)';
    const issues = [];
    if (!STREAM_PATTERN.test(stream)) {
      issues.push({
        path: 'stream',
        expected: 'a stream name (letters, digits, _ . : / -; at most 200)',
        value: stream,
      });
    }
    if (!def) {
      issues.push({ path: 'type', expected: `a registered event type`, value: event?.type });
      throw new InvalidEventError(type, issues);
    }
    issues.push(...validate(uuid, event.id, 'id'));
    issues.push(...validate(metadataSchema, event.metadata, 'metadata'));
    if (event.metadata?.schemaVersion !== def.schemaVersion) {
      issues.push({
        path: 'metadata.schemaVersion',
        expected: `${def.schemaVersion} (the current version of ${type}; old versions are only read, never written)`,
        value: event.metadata?.schemaVersion,
      });
    }
    issues.push(...validate(def.schema, event.data, 'data'));
    if (issues.length > 0) throw new InvalidEventError(type, issues);
  }

  /**
   * Brings a stored event to the current shape of its type. Unknown types pass through (the log
   * may hold types a newer version wrote; consumers that must understand them refuse them);
   * a version newer than this build knows is a clear error.
   */
  upcast<E extends RecordedEvent>(event: E): E {
    const def = this.definitions.get(event.type);
    if (!def) return event;
    const version = event.metadata.schemaVersion;
    if (version === def.schemaVersion) return event;
    if (version > def.schemaVersion) {
      throw new StoreDataError(
        `event at position ${event.position} is ${event.type} v${version}, but this build knows only up to v${def.schemaVersion}`,
        'upgrade tradekernel to read this log',
      );
    }
    let data = event.data as Record<string, unknown>;
    for (let v = version; v < def.schemaVersion; v++) data = def.upcasters![v]!(data);
    return { ...event, data, metadata: { ...event.metadata, schemaVersion: def.schemaVersion } };
  }
}

export interface EventContext {
  occurredAt: number;
  causationId?: string | null;
  correlationId?: string | null;
  mode?: EventMetadata['mode'];
  runId?: string;
}

/** Builds a new event of a defined type at its current schema version. */
export function newEvent<Type extends string, Data>(
  def: EventDefinition<Type, Data>,
  id: string,
  data: Data,
  context: EventContext,
): NewEvent<Type, Data> {
  const meta: EventMetadata = {
    occurredAt: context.occurredAt,
    causationId: context.causationId ?? null,
    correlationId: context.correlationId ?? null,
    schemaVersion: def.schemaVersion,
  };
  if (context.mode !== undefined) meta.mode = context.mode;
  if (context.runId !== undefined) meta.runId = context.runId;
  return { id, type: def.type, data, metadata: meta };
}
