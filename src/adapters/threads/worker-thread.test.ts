import { types } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ConfigError, InvalidEventError, StoreDataError, TradekernelError } from '../../domain/errors.js';
import { KernelInputError } from '../../domain/kernel/errors.js';
import { MissingDataError } from '../../replay/backtest/market-data.js';
import { errorShape, reviveError } from './worker-thread.js';

/** What a worker's error becomes on the main thread: postMessage clones the shape, not the class. */
const across = (error: unknown) => reviveError(structuredClone(errorShape(error)));

describe('errors crossing between threads', () => {
  it('keep the classes of domain/errors.ts, messages, codes, hints and fields', () => {
    const store = across(new StoreDataError('event 5 of s has data that is not a JSON object', 'restore it'));
    expect(store).toBeInstanceOf(StoreDataError);
    expect(store).toBeInstanceOf(TradekernelError);
    expect(store).toMatchObject({ name: 'StoreDataError', code: 'store_data', hint: 'restore it' });
    expect(store.message).toBe('event 5 of s has data that is not a JSON object');
    expect(types.isNativeError(store)).toBe(true);

    const invalid = across(
      new InvalidEventError('CandleClosed', [{ path: 'open', expected: 'a number', value: 'x' }]),
    );
    expect(invalid).toBeInstanceOf(InvalidEventError);
    expect((invalid as InvalidEventError).issues).toEqual([
      { path: 'open', expected: 'a number', value: 'x' },
    ]);
    expect(invalid.message).toMatch(/CandleClosed/);
  });

  it('keep a subclass defined elsewhere as the class of domain/errors.ts it extends', () => {
    // the CLI and the API answer expected errors by class: a bug report (exit 70, HTTP 500) otherwise
    const kernel = across(new KernelInputError('candle out of order', 'replay in order'));
    expect(kernel).toBeInstanceOf(TradekernelError);
    expect(kernel).toMatchObject({ name: 'KernelInputError', code: 'kernel_input', hint: 'replay in order' });
    const request = {
      exchange: 'binance',
      timeframe: '1h' as const,
      symbols: ['BTC/USDT'],
      from: 0,
      to: 3_600_000,
    };
    const missing = across(
      new MissingDataError(request, [{ symbol: 'BTC/USDT', from: 0, to: 3_600_000, reason: 'no stream' }]),
    );
    expect(missing).toBeInstanceOf(ConfigError);
    expect(missing.name).toBe('MissingDataError');
    expect((missing as ConfigError).hint).toMatch(/tradekernel data download/);
  });

  it('leave out fields a message cannot carry, so the reply itself cannot fail', () => {
    const error = Object.assign(new ConfigError('bad'), { retry: () => 1, tag: Symbol('x'), attempt: 3 });
    const shape = errorShape(error);
    expect(() => structuredClone(shape)).not.toThrow();
    const revived = reviveError(structuredClone(shape));
    expect(revived).toBeInstanceOf(ConfigError);
    expect(revived).toMatchObject({ attempt: 3 });
    expect(revived).not.toHaveProperty('retry');
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
