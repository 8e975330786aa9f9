import { type RawBuilder, sql } from 'kysely';
import { badRequest } from '../problem.js';
import { type JsonSchema, parseTime, TIME } from '../schemas.js';

/**
 * Shared pieces of the read-model routes (accounts, positions, orders, trades, equity, signals,
 * risk, predictions, backtests, strategies): parameter schemas, time ranges, keyset helpers.
 */

export const ACCOUNT = {
  type: 'string',
  pattern: '^[A-Za-z0-9][A-Za-z0-9_.:/-]{0,199}$',
  description: 'account id: the name of its stream (bt-<run>, paper-<name>, live-<name>)',
  examples: ['bt-demo-1'],
} as const;

export const STRATEGY = {
  type: 'string',
  pattern: '^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$',
  description: 'strategy name, e.g. ema-cross',
} as const;

export const RUN_ID = {
  type: 'string',
  pattern: '^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$',
  description: 'run id',
} as const;

export const FROM = { ...TIME, description: `inclusive lower bound. ${TIME.description}` } as const;
export const TO = { ...TIME, description: `exclusive upper bound. ${TIME.description}` } as const;

export const num = { type: 'number' } as const;
export const numOrNull = { type: ['number', 'null'] } as const;
export const int = { type: 'integer' } as const;
export const str = { type: 'string' } as const;
export const strOrNull = { type: ['string', 'null'] } as const;
export const msOrNull = { type: ['integer', 'null'], description: 'epoch ms UTC' } as const;
export const ms = { type: 'integer', description: 'epoch ms UTC' } as const;
export const anyJson = { description: 'JSON' } as const;

/** An object schema whose listed properties are all required. */
export function object(properties: Record<string, JsonSchema>, description?: string): JsonSchema {
  return {
    type: 'object',
    ...(description ? { description } : {}),
    required: Object.keys(properties),
    properties,
  };
}

export interface TimeRange {
  from: number | null;
  to: number | null;
}

export function timeRange(q: { from?: string; to?: string }): TimeRange {
  const from = q.from === undefined ? null : parseTime(q.from, 'from');
  const to = q.to === undefined ? null : parseTime(q.to, 'to');
  if (from !== null && to !== null && to <= from) throw badRequest('to', 'to: must be after from');
  return { from, to };
}

/** `and column >= from and column < to` for the range's bounds that are set. */
export function inRange(column: string, range: TimeRange): RawBuilder<unknown> {
  const c = sql.ref(column);
  return sql`${range.from === null ? sql`` : sql`and ${c} >= to_timestamp(${range.from} / 1000.0)`}
    ${range.to === null ? sql`` : sql`and ${c} < to_timestamp(${range.to} / 1000.0)`}`;
}

/** `and column = value` when the value is given. */
export function eq(column: string, value: string | undefined): RawBuilder<unknown> {
  return value === undefined ? sql`` : sql`and ${sql.ref(column)} = ${value}`;
}

/** epoch ms of a timestamptz column, as SQL */
export const epoch = (column: string) => sql.raw(`(extract(epoch from ${column}) * 1000)::int8`);

export const toMs = (value: unknown): number | null =>
  value === null || value === undefined ? null : new Date(value as string).getTime();
export const toNum = (value: unknown): number | null =>
  value === null || value === undefined ? null : Number(value);

const isTime = (x: unknown) => Number.isSafeInteger(x) && (x as number) >= 0 && (x as number) <= 8.64e15;
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what it refuses
const isText = (x: unknown) => typeof x === 'string' && x.length <= 500 && !/[\u0000-\u001f]/.test(x);

/** Cursor keys: [time, position] and [time, text, text]. */
export const keyShapes = {
  timePosition: (k: readonly unknown[]): k is readonly [number, number] =>
    k.length === 2 && isTime(k[0]) && Number.isSafeInteger(k[1]) && (k[1] as number) >= 0,
  timeTextText: (k: readonly unknown[]): k is readonly [number, string, string] =>
    k.length === 3 && isTime(k[0]) && isText(k[1]) && isText(k[2]),
  timeText: (k: readonly unknown[]): k is readonly [number, string] =>
    k.length === 2 && isTime(k[0]) && isText(k[1]),
  text: (k: readonly unknown[]): k is readonly [string] => k.length === 1 && isText(k[0]),
  textText: (k: readonly unknown[]): k is readonly [string, string] =>
    k.length === 2 && isText(k[0]) && isText(k[1]),
};

/** `and (a, b) > (to_timestamp(k0), k1)` for a [time, position] key. */
export function afterTimePosition(
  time: string,
  position: string,
  after: readonly [number, number] | null,
): RawBuilder<unknown> {
  return after === null
    ? sql``
    : sql`and (${sql.ref(time)}, ${sql.ref(position)}) > (to_timestamp(${after[0]} / 1000.0), ${after[1]})`;
}

/** `and (t, a, b) > (to_timestamp(k0), k1, k2)` for a [time, text, text] key. */
export function afterTimeTextText(
  columns: readonly [string, string, string],
  after: readonly [number, string, string] | null,
): RawBuilder<unknown> {
  if (after === null) return sql``;
  const [t, a, b] = columns.map((c) => sql.ref(c)) as [
    RawBuilder<unknown>,
    RawBuilder<unknown>,
    RawBuilder<unknown>,
  ];
  return sql`and (${t}, ${a}, ${b}) > (to_timestamp(${after[0]} / 1000.0), ${after[1]}, ${after[2]})`;
}
