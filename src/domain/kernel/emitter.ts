import { type EventDefinition, newEvent } from '../events/catalogue.js';
import type { Mode, NewEvent } from '../events/envelope.js';
import { deterministicId } from '../events/ids.js';

/** What handle() returns when an input decided nothing: shared, so that path allocates nothing. */
export const NO_EVENTS: readonly NewEvent[] = Object.freeze([]);

/**
 * Builds the kernel's output events: ids derived from the account, the run, the event type and
 * what the event is about (so a replay names them identically and two runs never collide), the
 * run's mode and id in the metadata. Events of one handle() call are collected and taken
 * together.
 */
export class Emitter {
  private out: NewEvent[] | null = null;

  constructor(
    private readonly accountId: string,
    private readonly runId: string,
    private readonly mode: Mode,
  ) {}

  /** Appends an event; returns its id (the causation of what follows from it). */
  emit<Type extends string, Data>(
    definition: EventDefinition<Type, Data>,
    subject: string,
    data: Data,
    occurredAt: number,
    causationId: string,
    correlationId: string,
  ): string {
    const id = deterministicId(occurredAt, this.accountId, this.runId, definition.type, subject);
    const event = newEvent(definition, id, data, {
      occurredAt,
      causationId,
      correlationId,
      mode: this.mode,
      runId: this.runId,
    });
    if (this.out === null) this.out = [event];
    else this.out.push(event);
    return id;
  }

  take(): readonly NewEvent[] {
    const out = this.out;
    if (out === null) return NO_EVENTS;
    this.out = null;
    return out;
  }
}
