import type { FastifyInstance } from 'fastify';
import type { ApiDeps } from './module.js';
import {
  type CursorKey,
  decodeCursor,
  encodeCursor,
  nextLink,
  type Page,
  type PageParams,
  scopeOf,
} from './pagination.js';
import { problemResponses } from './problem.js';
import type { JsonSchema } from './schemas.js';

/**
 * A paginated read endpoint in a few lines: its filters, the JSON schema of one item, the key
 * that orders the rows, and a fetch that returns up to `limit` rows after a key. The helper adds
 * `limit` and `cursor`, validates them, encodes the next cursor, the `next` link and the
 * `Link: <...>; rel="next"` header, and documents it all in the OpenAPI document.
 */
export interface ListRoute<Query, Item, Key extends CursorKey> {
  url: string;
  summary: string;
  description?: string;
  /** filter parameters (JSON schemas); `limit` and `cursor` are added */
  filters: Record<string, JsonSchema>;
  required?: readonly string[];
  item: JsonSchema;
  defaultLimit?: number;
  maxLimit?: number;
  /** checks a decoded cursor key's shape */
  isKey(key: readonly unknown[]): key is Key;
  /** the key of an item: the next page starts after the last item's key */
  keyOf(item: Item): Key;
  /** up to `limit` items after `after` (null: from the start), in key order */
  fetch(deps: ApiDeps, query: Query, page: { after: Key | null; limit: number }): Promise<Item[]>;
  /** called when the first page is empty: throw a 404 when the thing asked for does not exist */
  whenEmpty?(deps: ApiDeps, query: Query): Promise<void>;
  /** problem statuses besides 400 and 503 that the route can answer */
  problems?: number[];
}

export function pageSchema(item: JsonSchema): JsonSchema {
  return {
    type: 'object',
    required: ['data', 'page'],
    properties: {
      data: { type: 'array', items: item },
      page: {
        type: 'object',
        required: ['limit', 'cursor', 'next'],
        properties: {
          limit: { type: 'integer' },
          cursor: { type: ['string', 'null'], description: 'send as `cursor` for the next page' },
          next: { type: ['string', 'null'], description: 'path and query of the next page' },
        },
      },
    },
  };
}

export function listRoute<Query, Item, Key extends CursorKey>(
  app: FastifyInstance,
  deps: ApiDeps,
  tag: string,
  route: ListRoute<Query, Item, Key>,
): void {
  const defaultLimit = route.defaultLimit ?? 100;
  const maxLimit = route.maxLimit ?? 1_000;
  app.get(
    route.url,
    {
      schema: {
        summary: route.summary,
        description: route.description,
        tags: [tag],
        querystring: {
          type: 'object',
          additionalProperties: false,
          required: [...(route.required ?? [])],
          properties: {
            ...route.filters,
            limit: {
              type: 'integer',
              minimum: 1,
              maximum: maxLimit,
              default: defaultLimit,
              description: `items per page (at most ${maxLimit})`,
            },
            cursor: {
              type: 'string',
              maxLength: 2_000,
              description: 'opaque: page.cursor of the previous page',
            },
          },
        },
        response: {
          200: pageSchema(route.item),
          ...problemResponses(400, ...(route.problems ?? []), 503),
        },
      },
    },
    async (request, reply): Promise<Page<Item>> => {
      const query = request.query as Query & PageParams;
      const limit = query.limit ?? defaultLimit;
      const scope = scopeOf(route.url, query as Record<string, unknown>);
      const after = query.cursor ? decodeCursor(query.cursor, scope, route.isKey) : null;
      const rows = await route.fetch(deps, query, { after, limit: limit + 1 });
      const more = rows.length > limit;
      const data = more ? rows.slice(0, limit) : rows;
      if (data.length === 0 && after === null) await route.whenEmpty?.(deps, query);
      const cursor = more ? encodeCursor(scope, route.keyOf(data.at(-1)!)) : null;
      const q = request.url.indexOf('?');
      const path = q < 0 ? request.url : request.url.slice(0, q);
      const next = cursor ? nextLink(path, q < 0 ? '' : request.url.slice(q + 1), cursor) : null;
      if (next) reply.header('link', `<${next}>; rel="next"`);
      return { data, page: { limit, cursor, next } };
    },
  );
}
