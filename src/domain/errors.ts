import { describeValue, type SchemaIssue } from './events/schema.js';

/**
 * Errors the system expects and explains. The CLI prints `message` (and `hint`) without a
 * stack trace and exits non-zero; anything else is a bug and keeps its stack.
 */
export class TradekernelError extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly hint?: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** An event refused before anything was written. Names the type, each bad field and its value. */
export class InvalidEventError extends TradekernelError {
  constructor(
    readonly eventType: string,
    readonly issues: SchemaIssue[],
  ) {
    const lines = issues.map(
      (i) => `${i.path || '(event)'} = ${describeValue(i.value)}: expected ${i.expected}`,
    );
    super(`invalid ${eventType} event: ${lines.join('; ')}`, 'invalid_event');
  }
}

export type ExpectedRevisionText = 'any' | 'no_stream' | 'stream_exists' | number;

/** Optimistic concurrency: the stream was not at the revision the writer expected. */
export class WrongExpectedRevisionError extends TradekernelError {
  constructor(
    readonly stream: string,
    readonly expected: ExpectedRevisionText,
    /** -1 when the stream does not exist */
    readonly actual: number,
  ) {
    const actualText = actual < 0 ? 'no stream' : `revision ${actual}`;
    super(
      `append to ${stream} expected ${typeof expected === 'number' ? `revision ${expected}` : expected} but found ${actualText}`,
      'wrong_expected_revision',
      'another writer appended first: reload the stream and decide again',
    );
  }
}

/** An event id already stored with different content or at a different place. */
export class DuplicateEventIdError extends TradekernelError {
  constructor(
    readonly eventId: string,
    detail: string,
  ) {
    super(`event id ${eventId} is already stored ${detail}`, 'duplicate_event_id');
  }
}

/** Rows in the store that tradekernel did not write, or cannot read back. */
export class StoreDataError extends TradekernelError {
  constructor(message: string, hint?: string) {
    super(message, 'store_data', hint);
  }
}

/** Bad configuration or command-line input: names the setting and the fix. */
export class ConfigError extends TradekernelError {
  constructor(message: string, hint?: string) {
    super(message, 'config', hint);
  }
}

/** An outside system (database, exchange) could not be reached. */
export class UnavailableError extends TradekernelError {
  constructor(message: string, hint?: string) {
    super(message, 'unavailable', hint);
  }
}
