import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { deterministicId } from './ids.js';

/** The first implementation (createHash streaming): stored ids were made with it. */
function streamingId(timeMs: number, ...parts: (string | number)[]): string {
  const hash = createHash('sha256').update(parts.join('\u001f')).digest('hex');
  const time = Math.max(0, Math.floor(timeMs)).toString(16).padStart(12, '0').slice(-12);
  const variant = ((Number.parseInt(hash[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${time.slice(0, 8)}-${time.slice(8, 12)}-8${hash.slice(0, 3)}-${variant}${hash.slice(3, 6)}-${hash.slice(6, 18)}`;
}

describe('deterministicId', () => {
  it('gives the ids already stored (pinned values)', () => {
    // A candle of market-binance-BTC_USDT-1m, as candleEventId names it.
    expect(deterministicId(1_609_459_200_000, 'binance', 'BTC/USDT', '1m', 1_609_459_200_000)).toBe(
      '0176bb3e-7000-8344-b442-a04b47fa50f7',
    );
    expect(deterministicId(0, 'x')).toBe('00000000-0000-82d7-8116-42b726b04401');
    expect(deterministicId(-5, 'é✓🚀', 1.5)).toBe('00000000-0000-867e-bf6a-08bc6716c4bd');
  });

  it('property: byte-identical to the streaming createHash implementation', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.double({ min: -1e3, max: 2 ** 48, noNaN: true }),
          fc.double(),
          fc.integer({ min: 0, max: 2 ** 31 }),
        ),
        fc.array(fc.oneof(fc.string({ unit: 'binary' }), fc.integer(), fc.double({ noNaN: true })), {
          maxLength: 6,
        }),
        (time, parts) => deterministicId(time, ...parts) === streamingId(time, ...parts),
      ),
      { numRuns: 2000 },
    );
  });
});
