import { describe, expect, it } from 'vitest';
import { ConfigError, InvalidEventError, StoreDataError, TradekernelError } from '../../domain/errors.js';
import { errorShape, reviveError } from './worker-thread.js';

/** What a worker's error becomes on the main thread: postMessage clones the shape, not the class. */
const across = (error: unknown) => reviveError(structuredClone(errorShape(error)));

describe('errors crossing between threads', () => {
  it("keep tradekernel's classes, messages, codes, hints and fields", () => {
    const store = across(new StoreDataError('event 5 of s has data that is not a JSON object', 'restore it'));
    expect(store).toBeInstanceOf(StoreDataError);
    expect(store).toBeInstanceOf(TradekernelError);
    expect(store).toMatchObject({ name: 'StoreDataError', code: 'store_data', hint: 'restore it' });
    expect(store.message).toBe('event 5 of s has data that is not a JSON object');

    const invalid = across(
      new InvalidEventError('CandleClosed', [{ path: 'open', expected: 'a number', value: 'x' }]),
    );
    expect(invalid).toBeInstanceOf(InvalidEventError);
    expect((invalid as InvalidEventError).issues).toEqual([
      { path: 'open', expected: 'a number', value: 'x' },
    ]);
    expect(invalid.message).toMatch(/CandleClosed/);

    expect(across(new ConfigError('bad'))).toBeInstanceOf(ConfigError);
  });

  it('turn anything else into a plain Error with its name, message and stack', () => {
    const original = new SyntaxError('Unexpected token');
    const revived = across(original);
    expect(revived).toBeInstanceOf(Error);
    expect(revived).not.toBeInstanceOf(TradekernelError);
    expect([revived.name, revived.message, revived.stack]).toEqual([
      'SyntaxError',
      'Unexpected token',
      original.stack,
    ]);
    expect(across('a string thrown')).toMatchObject({ name: 'Error', message: 'a string thrown' });
  });
});
