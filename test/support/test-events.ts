import { randomUUID } from 'node:crypto';
import { createCatalogue } from '../../src/domain/catalogue.js';
import { defineEvent, type EventCatalogue, newEvent } from '../../src/domain/events/catalogue.js';
import type { NewEvent } from '../../src/domain/events/envelope.js';
import { number, object, optional, string } from '../../src/domain/events/schema.js';

/** A test-only event type, so contract tests do not depend on any business event's shape. */
export const TestHappened = defineEvent({
  type: 'TestHappened',
  schemaVersion: 1,
  schema: object({ n: number({ integer: true }), note: optional(string({ maxLength: 1000 })) }),
  description: 'test event',
});

export function testCatalogue(): EventCatalogue {
  return createCatalogue().register(TestHappened);
}

export function testEvent(
  n: number,
  extra: { note?: string; id?: string; occurredAt?: number } = {},
): NewEvent {
  const data: { n: number; note?: string } = { n };
  if (extra.note !== undefined) data.note = extra.note;
  return newEvent(TestHappened, extra.id ?? randomUUID(), data, {
    occurredAt: extra.occurredAt ?? 1_700_000_000_000 + n,
  });
}

export function testEvents(from: number, count: number): NewEvent[] {
  return Array.from({ length: count }, (_, i) => testEvent(from + i));
}

/** A unique stream-name prefix per test, so tests can share one store (and EventStoreDB). */
export function uniquePrefix(): string {
  return `t${randomUUID().replaceAll('-', '').slice(0, 12)}`;
}

export async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}
