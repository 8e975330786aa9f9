import type { RecordedEvent } from '../../domain/events/envelope.js';
import type { AllFilter } from '../../domain/ports/event-store.js';
import { listRoute } from '../list-route.js';
import type { ApiModule } from '../module.js';
import { keys } from '../pagination.js';
import { POSITION } from '../schemas.js';

/** The event log itself, in global order: what auditors read. */

interface EventsQuery {
  type?: string[];
  streamPrefix?: string;
  after?: number;
  before?: number;
  order?: 'asc' | 'desc';
}

const TYPE_LIST = '[A-Z][A-Za-z0-9]{1,99}';

export const eventsModule: ApiModule = {
  name: 'events',
  tag: { name: 'event log', description: 'The event log in global order, filtered by type and stream.' },
  register(app, deps) {
    listRoute<EventsQuery, RecordedEvent, readonly [number]>(app, deps, 'event log', {
      url: '/v1/events',
      summary: 'Events of the log in global order (oldest first, or newest first with order=desc)',
      description:
        'Filter by event type (`type=A&type=B` or `type=A,B`) and by stream-name prefix (`streamPrefix=control-`). `after` / `before` are exclusive global positions; pages continue by position. Events are shown in their current schema version (older versions are upcast).',
      filters: {
        type: {
          type: 'array',
          maxItems: 50,
          items: { type: 'string', pattern: `^${TYPE_LIST}(,${TYPE_LIST})*$`, maxLength: 2_000 },
          description: 'event types (repeat the parameter, or separate with commas)',
        },
        streamPrefix: {
          type: 'string',
          pattern: '^[A-Za-z0-9][A-Za-z0-9_.:/-]{0,199}$',
          description: 'only streams whose name starts with this, e.g. `market-binance-` or `control-`',
        },
        after: { ...POSITION, description: 'only events after this global position (exclusive)' },
        before: { ...POSITION, description: 'only events before this global position (exclusive)' },
        order: { type: 'string', enum: ['asc', 'desc'], default: 'asc' },
      },
      item: {
        type: 'object',
        required: ['position', 'stream', 'revision', 'id', 'type', 'data', 'metadata'],
        properties: {
          position: POSITION,
          stream: { type: 'string' },
          revision: { type: 'integer', description: '0-based position in its stream' },
          id: { type: 'string', format: 'uuid' },
          type: { type: 'string' },
          data: { description: "the event's data (its shape depends on the type; docs/event-log.md)" },
          metadata: {
            type: 'object',
            additionalProperties: true,
            properties: {
              occurredAt: { type: 'integer' },
              recordedAt: { type: 'integer' },
              causationId: { type: ['string', 'null'] },
              correlationId: { type: ['string', 'null'] },
              schemaVersion: { type: 'integer' },
              mode: { type: 'string' },
              runId: { type: 'string' },
            },
          },
        },
      },
      maxLimit: 1_000,
      isKey: keys.oneInt,
      keyOf: (e) => [e.position],
      async fetch({ store }, q, { after, limit }) {
        const filter: AllFilter = {};
        if (q.type) filter.types = [...new Set(q.type.flatMap((t) => t.split(',')))];
        if (q.streamPrefix) filter.streamPrefixes = [q.streamPrefix];
        const events: RecordedEvent[] = [];
        const source =
          q.order === 'desc'
            ? store.readAll({
                direction: 'backwards',
                before: Math.min(after?.[0] ?? Number.MAX_SAFE_INTEGER, q.before ?? Number.MAX_SAFE_INTEGER),
                maxCount: limit,
                pageSize: limit,
                filter,
              })
            : store.readAll({
                after: Math.max(after?.[0] ?? 0, q.after ?? 0),
                maxCount: limit,
                pageSize: limit,
                filter,
              });
        for await (const event of source) {
          if (q.before !== undefined && event.position >= q.before) break; // asc: the upper bound
          if (q.after !== undefined && event.position <= q.after) break; // desc: the lower bound
          events.push(event);
        }
        return events;
      },
    });
  },
};
