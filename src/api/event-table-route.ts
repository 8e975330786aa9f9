import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import { listRoute } from './list-route.js';
import type { ApiDeps } from './module.js';
import {
  afterTimePosition,
  eq,
  FROM,
  inRange,
  keyShapes,
  TO,
  timeRange,
  toMs,
  toNum,
} from './routes/read-models.js';
import type { JsonSchema } from './schemas.js';

/**
 * A read-model table with one row per event (signals, risk decisions, fills...), listed in
 * (time, event position) order, declared rather than written: the equality filters, the item
 * schema and the few fields whose column or conversion differs from the default. Each filter
 * parameter compares the column of the same name; `from`/`to` bound `time`; the cursor is the
 * last item's (time, position).
 */
export interface EventTableRoute {
  url: string;
  summary: string;
  description?: string;
  table: string;
  /** equality filters, by parameter name = column name; `from` and `to` are added */
  filters: Record<string, JsonSchema>;
  /** an object schema: its properties are the item's fields, in order */
  item: JsonSchema;
  /**
   * Columns whose name is not the field's in snake_case. Defaults: `id` is `event_id`, `position`
   * is `event_position`.
   */
  columns?: Record<string, string>;
  /** fields holding a timestamptz, returned as epoch ms (`time` always is) */
  times?: readonly string[];
}

type Row = Record<string, unknown>;

export function eventTableRoute(app: FastifyInstance, deps: ApiDeps, tag: string, route: EventTableRoute) {
  const toItem = itemMapper(route);
  listRoute<Row, Row, readonly [number, number]>(app, deps, tag, {
    url: route.url,
    summary: route.summary,
    description: route.description,
    filters: { ...route.filters, from: FROM, to: TO },
    item: route.item,
    isKey: keyShapes.timePosition,
    keyOf: (item) => [item.time as number, item.position as number],
    async fetch({ database }, q, { after, limit }) {
      const equal = Object.keys(route.filters).map((name) => eq(name, q[name] as string | undefined));
      const { rows } = await sql<Row>`
        select * from ${sql.table(route.table)}
        where true ${sql.join(equal, sql` `)} ${inRange('time', timeRange(q))}
          ${afterTimePosition('time', 'event_position', after)}
        order by time, event_position limit ${limit}`.execute(database.db);
      return rows.map(toItem);
    },
  });
}

/** Row to item: each field from its column; times to epoch ms, numbers (int8, numeric) to numbers. */
function itemMapper(route: EventTableRoute): (row: Row) => Row {
  const properties = (route.item.properties ?? {}) as Record<string, JsonSchema>;
  const columns: Record<string, string> = { id: 'event_id', position: 'event_position', ...route.columns };
  const times = new Set(['time', ...(route.times ?? [])]);
  const fields = Object.entries(properties).map(([field, schema]) => {
    const column = columns[field] ?? field.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
    const types = [schema.type].flat();
    const numeric = types.includes('integer') || types.includes('number');
    const convert = times.has(field) ? toMs : numeric ? toNum : null;
    return { field, column, convert };
  });
  return (row) => {
    const item: Row = {};
    for (const { field, column, convert } of fields) {
      item[field] = convert ? convert(row[column]) : row[column];
    }
    return item;
  };
}
