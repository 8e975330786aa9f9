import { createHash } from 'node:crypto';
import { badRequest } from './problem.js';

/**
 * Cursor (keyset) pagination. A page is the rows after a key, in the key's order; the cursor is
 * that key, base64url-encoded with a fingerprint of the query's filters, so a cursor only works
 * for the query that produced it (a changed filter gives a clear 400, never a wrong page). The
 * encoding is opaque to clients: only `next` links and `page.cursor` values are meant to be
 * sent back.
 */

export type CursorKey = readonly (string | number)[];

export interface PageParams {
  limit?: number;
  cursor?: string;
}

export interface PageInfo {
  limit: number;
  /** cursor for the next page; null on the last page */
  cursor: string | null;
  /** path and query of the next page; null on the last page */
  next: string | null;
}

export interface Page<Item> {
  data: Item[];
  page: PageInfo;
}

/** The query parameters that are not filters (they do not change which rows match). */
const PAGING_PARAMS = new Set(['limit', 'cursor']);

export function scopeOf(route: string, query: Record<string, unknown>): string {
  const filters = Object.keys(query)
    .filter((k) => !PAGING_PARAMS.has(k) && query[k] !== undefined)
    .sort()
    .map((k) => [k, query[k]]);
  return createHash('sha256')
    .update(JSON.stringify([route, filters]))
    .digest('base64url')
    .slice(0, 10);
}

export function encodeCursor(scope: string, key: CursorKey): string {
  return Buffer.from(JSON.stringify({ s: scope, k: key })).toString('base64url');
}

/**
 * The key a cursor holds, checked against the query's scope and the route's key shape.
 * Anything else (garbage, a cursor of another query, a tampered key) is a 400 naming `cursor`.
 */
export function decodeCursor<K extends CursorKey>(
  cursor: string,
  scope: string,
  isKey: (key: readonly unknown[]) => key is K,
): K {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    parsed = null;
  }
  const value = parsed as { s?: unknown; k?: unknown } | null;
  if (!value || typeof value !== 'object' || !Array.isArray(value.k) || typeof value.s !== 'string') {
    throw badRequest(
      'cursor',
      'cursor: not a cursor this API made; send back page.cursor or follow page.next',
    );
  }
  if (value.s !== scope) {
    throw badRequest(
      'cursor',
      'cursor: it belongs to a query with other filters; start again without a cursor (or keep the filters)',
    );
  }
  if (!isKey(value.k)) throw badRequest('cursor', 'cursor: not a cursor this API made');
  return value.k;
}

/** `path?query&cursor=...` for the next page, keeping every other parameter as sent. */
export function nextLink(path: string, rawQuery: string, cursor: string): string {
  const params = new URLSearchParams(rawQuery);
  params.set('cursor', cursor);
  return `${path}?${params.toString()}`;
}

/** Key validators for common key shapes. */
export const keys = {
  oneInt: (k: readonly unknown[]): k is readonly [number] => k.length === 1 && Number.isSafeInteger(k[0]),
  /** one time in epoch ms, within what both JavaScript and PostgreSQL can represent */
  epochMs: (k: readonly unknown[]): k is readonly [number] =>
    k.length === 1 && Number.isSafeInteger(k[0]) && (k[0] as number) >= 0 && (k[0] as number) <= 8.64e15,
  strings:
    (n: number) =>
    (k: readonly unknown[]): k is readonly string[] =>
      // no control characters: PostgreSQL text cannot hold NUL
      k.length === n && k.every((x) => typeof x === 'string' && x.length <= 500 && !hasControlCharacter(x)),
};

function hasControlCharacter(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) < 0x20) return true;
  return false;
}
