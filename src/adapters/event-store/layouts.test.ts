import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createCatalogue } from '../../domain/catalogue.js';
import { layoutOf } from './data-codec.js';

/**
 * The data of every event type is stored in the layout its schema gives (data-codec.ts), and a
 * log holds the layout of each type and version it has seen. A schema whose layout changes
 * without a new schemaVersion would make every stored event of that version unreadable: the
 * store refuses such a log at open. This pins the layouts so the change is caught here first.
 * New types and versions are added with UPDATE_LAYOUTS=1; a pinned one is never rewritten.
 */
const PINNED = new URL('../../../test/fixtures/event-layouts.json', import.meta.url);

describe('event data layouts', () => {
  const current = Object.fromEntries(
    createCatalogue()
      .types()
      .map((d) => [`${d.type} v${d.schemaVersion}`, JSON.stringify(layoutOf(d.schema))]),
  );
  const pinned: Record<string, string> = existsSync(PINNED) ? JSON.parse(readFileSync(PINNED, 'utf8')) : {};

  it('are those pinned for every type and version (a changed schema needs a new schemaVersion)', () => {
    const changed = Object.keys(current).filter((key) => key in pinned && pinned[key] !== current[key]);
    expect(
      changed,
      'these schemas changed without a new schemaVersion: give each a new version and an upcaster',
    ).toEqual([]);
    if (process.env.UPDATE_LAYOUTS) {
      writeFileSync(
        PINNED,
        `${JSON.stringify({ ...current, ...pinned }, Object.keys({ ...current, ...pinned }).sort(), 2)}\n`,
      );
      return;
    }
    const unpinned = Object.keys(current).filter((key) => !(key in pinned));
    expect(unpinned, 'new event types or versions: pin them with UPDATE_LAYOUTS=1').toEqual([]);
  });
});
