import { DuplicateEventIdError, InvalidEventError, WrongExpectedRevisionError } from '../../domain/errors.js';
import type { EventCatalogue } from '../../domain/events/catalogue.js';
import type { NewEvent } from '../../domain/events/envelope.js';
import {
  type AppendResult,
  type EventStore,
  type ExpectedRevision,
  expectedRevisionHolds,
} from '../../domain/ports/event-store.js';

/**
 * What every store checks before it writes anything: the expected revision is one the port
 * knows, every event is valid for its stream, and no id appears twice in the batch.
 */
export function checkAppend(
  catalogue: EventCatalogue,
  stream: string,
  events: readonly NewEvent[],
  expected: ExpectedRevision,
): void {
  if (typeof expected === 'number' && !(Number.isInteger(expected) && expected >= -1)) {
    throw new InvalidEventError('(append)', [
      { path: 'expected', expected: 'any, no_stream, stream_exists or an integer >= -1', value: expected },
    ]);
  }
  let increasing = true;
  for (let i = 0; i < events.length; i++) {
    catalogue.assertValid(stream, events[i]!);
    if (i > 0 && !(events[i]!.id > events[i - 1]!.id)) increasing = false;
  }
  // Ids in increasing order cannot repeat (a market stream's batches: ids begin with the time)
  if (increasing) return;
  const ids = new Set<string>();
  for (const event of events) {
    if (ids.has(event.id)) throw new DuplicateEventIdError(event.id, 'earlier in the same batch');
    ids.add(event.id);
  }
}

/** An empty batch writes nothing, but still checks the expected revision. */
export async function appendNothing(
  store: Pick<EventStore, 'streamRevision' | 'headPosition'>,
  stream: string,
  expected: ExpectedRevision,
): Promise<AppendResult> {
  const actual = await store.streamRevision(stream);
  if (!expectedRevisionHolds(expected, actual))
    throw new WrongExpectedRevisionError(stream, expected, actual);
  return { nextExpectedRevision: actual, position: await store.headPosition(), written: false };
}
