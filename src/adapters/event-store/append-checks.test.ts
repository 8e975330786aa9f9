import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { testCatalogue, testEvent } from '../../../test/support/test-events.js';
import { DuplicateEventIdError } from '../../domain/errors.js';
import { checkAppend } from './append-checks.js';

const catalogue = testCatalogue();
const idOf = (n: number) => `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;

describe('checkAppend', () => {
  it('refuses an id repeated anywhere in a batch, whatever the order of the others', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.nat(1_000), { minLength: 2, maxLength: 30 }),
        fc.nat(),
        fc.nat(),
        (ns, a, b) => {
          const events = ns.map((n, i) => testEvent(i, { id: idOf(n) }));
          expect(() => checkAppend(catalogue, 'test-s', events, 'any')).not.toThrow();
          const i = a % events.length;
          const j = b % events.length;
          if (i === j) return;
          events[j] = testEvent(j, { id: events[i]!.id });
          expect(() => checkAppend(catalogue, 'test-s', events, 'any')).toThrow(DuplicateEventIdError);
        },
      ),
    );
  });
});
