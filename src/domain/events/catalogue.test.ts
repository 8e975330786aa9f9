import { describe, expect, it } from 'vitest';
import { createCatalogue } from '../catalogue.js';
import { InvalidEventError, StoreDataError } from '../errors.js';
import { CandleClosed } from '../market/events.js';
import { defineEvent, EventCatalogue, newEvent } from './catalogue.js';
import type { RecordedEvent } from './envelope.js';
import { deterministicId } from './ids.js';
import { number, object, string } from './schema.js';

const candle = {
  exchange: 'binance',
  symbol: 'BTC/USDT',
  timeframe: '1h' as const,
  openTime: 1_609_459_200_000,
  closeTime: 1_609_462_800_000,
  open: 28_923.63,
  high: 29_031.34,
  low: 28_690.17,
  close: 28_995.13,
  volume: 2311.811445,
};

function recorded(type: string, data: unknown, schemaVersion: number): RecordedEvent {
  return {
    id: deterministicId(0, 'x'),
    type,
    data,
    stream: 's-1',
    revision: 0,
    position: 42,
    metadata: { occurredAt: 0, causationId: null, correlationId: null, schemaVersion, recordedAt: 0 },
  };
}

describe('event catalogue', () => {
  const catalogue = createCatalogue();

  it('accepts a valid CandleClosed', () => {
    const event = newEvent(CandleClosed, deterministicId(candle.openTime, 'c'), candle, {
      occurredAt: candle.closeTime,
    });
    expect(() => catalogue.assertValid('market-binance-BTC_USDT-1h', event)).not.toThrow();
  });

  it('names the type, every bad field and its value', () => {
    const event = newEvent(
      CandleClosed,
      deterministicId(candle.openTime, 'c'),
      { ...candle, high: -1, symbol: 'BTCUSDT' },
      {
        occurredAt: candle.closeTime,
      },
    );
    const error = (() => {
      try {
        catalogue.assertValid('market-x', event);
      } catch (e) {
        return e as InvalidEventError;
      }
    })();
    expect(error).toBeInstanceOf(InvalidEventError);
    expect(error!.eventType).toBe('CandleClosed');
    expect(error!.message).toContain('data.high = -1: expected a finite number > 0');
    expect(error!.message).toContain('data.symbol = "BTCUSDT": expected a symbol like BTC/USDT');
  });

  it('refuses unknown properties and missing ones', () => {
    const { volume: _, ...noVolume } = candle;
    const event = newEvent(CandleClosed, deterministicId(1, 'c'), { ...noVolume, colour: 'red' } as never, {
      occurredAt: candle.closeTime,
    });
    expect(() => catalogue.assertValid('market-x', event)).toThrow(
      /data.volume = missing.*data.colour = "red": expected no such property/,
    );
  });

  it('refuses writing an old schema version', () => {
    const event = newEvent(CandleClosed, deterministicId(1, 'c'), candle, { occurredAt: candle.closeTime });
    event.metadata.schemaVersion = 0;
    expect(() => catalogue.assertValid('market-x', event)).toThrow(/metadata.schemaVersion = 0/);
  });

  it('upcasts through every version in order, and refuses versions from the future', () => {
    const v3 = defineEvent({
      type: 'PriceSeen',
      schemaVersion: 3,
      schema: object({ price: number(), currency: string(), source: string() }),
      upcasters: {
        1: (d) => ({ price: d.p, currency: 'USDT' }),
        2: (d) => ({ ...d, source: 'unknown' }),
      },
      description: 'test',
    });
    const c = new EventCatalogue([v3]);
    expect(c.upcast(recorded('PriceSeen', { p: 5 }, 1)).data).toEqual({
      price: 5,
      currency: 'USDT',
      source: 'unknown',
    });
    expect(c.upcast(recorded('PriceSeen', { price: 5, currency: 'EUR' }, 2)).data).toEqual({
      price: 5,
      currency: 'EUR',
      source: 'unknown',
    });
    const current = recorded('PriceSeen', { price: 1, currency: 'X', source: 'y' }, 3);
    expect(c.upcast(current)).toBe(current);
    expect(() => c.upcast(recorded('PriceSeen', {}, 4))).toThrow(StoreDataError);
    const unknown = recorded('SomethingElse', { a: 1 }, 1);
    expect(c.upcast(unknown)).toBe(unknown);
  });

  it('insists on an upcaster for every older version', () => {
    expect(() =>
      defineEvent({ type: 'Broken', schemaVersion: 2, schema: object({}), description: 'x' }),
    ).toThrow(/missing upcaster from schema version 1/);
  });
});

describe('deterministic ids', () => {
  it('are stable UUIDs that start with the event time', () => {
    const a = deterministicId(1_609_459_200_000, 'binance', 'BTC/USDT', '1h', 1_609_459_200_000);
    expect(a).toBe(deterministicId(1_609_459_200_000, 'binance', 'BTC/USDT', '1h', 1_609_459_200_000));
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(a.startsWith((1_609_459_200_000).toString(16).padStart(12, '0').slice(0, 8))).toBe(true);
    expect(deterministicId(1_609_459_200_000, 'binance', 'ETH/USDT', '1h', 1_609_459_200_000)).not.toBe(a);
    // later times sort after earlier ones: appends land at the end of the unique index
    expect(deterministicId(1_609_459_260_000, 'z') > deterministicId(1_609_459_200_000, 'a')).toBe(true);
  });
});
