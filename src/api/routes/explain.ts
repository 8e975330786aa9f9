import { sql } from 'kysely';
import { TradekernelError } from '../../domain/errors.js';
import { type Explanation, explain, explanationText } from '../../replay/audit/explain.js';
import type { ApiDeps, ApiModule } from '../module.js';
import { notFound, problemResponses } from '../problem.js';
import { ACCOUNT, object, str } from './read-models.js';

/**
 * "Why did it do that?" over HTTP (issue 8 §3): the causal chain of an order or a trade from the
 * log — candle, signal, risk decision with each rule's numbers, order, fills, and for a trade how
 * it ended — as JSON, with the readable text of `tradekernel audit explain`.
 */

const eventSchema = {
  type: 'object',
  required: ['position', 'stream', 'revision', 'id', 'type', 'data', 'metadata'],
  properties: {
    position: { type: 'integer' },
    stream: { type: 'string' },
    revision: { type: 'integer' },
    id: { type: 'string' },
    type: { type: 'string' },
    data: { description: "the event's data (docs/event-log.md)" },
    metadata: { type: 'object', additionalProperties: true },
  },
} as const;

const explanationSchema = object({
  kind: { type: 'string', enum: ['order', 'trade'] },
  id: str,
  account: str,
  entry: {
    type: 'array',
    items: eventSchema,
    description: 'candle → signal → risk decision → order → fills (for a trade: of its entry)',
  },
  exit: {
    type: 'array',
    items: eventSchema,
    description: 'for a trade: what closed it, its order and fills',
  },
  position: {
    type: 'object',
    required: ['opened', 'closed'],
    properties: {
      opened: { anyOf: [eventSchema, { type: 'null' }] },
      closed: { anyOf: [eventSchema, { type: 'null' }] },
    },
  },
  text: {
    ...str,
    description: 'the same chain, one readable line per event (as `tradekernel audit explain`)',
  },
});

/** The account of an order or position id, from the orders read model (null when not projected). */
async function accountOf({ database }: ApiDeps, id: string): Promise<string | null> {
  try {
    const { rows } = await sql<{ account: string }>`
      select account from readmodel.orders where client_order_id = ${id} or position_id = ${id} limit 1`.execute(
      database.db,
    );
    return rows[0]?.account ?? null;
  } catch {
    return null; // no read model yet: explain() searches the log
  }
}

export const explainModule: ApiModule = {
  name: 'explain',
  tag: {
    name: 'audit',
    description: 'Decision explanations: the causal chain of an order or a trade, from the log.',
  },
  register(app, deps) {
    app.get<{ Params: { id: string }; Querystring: { account?: string } }>(
      '/v1/explain/:id',
      {
        schema: {
          summary: 'Why an order was placed, or how a trade came and went: its causal chain from the log',
          description:
            '`id` is a client order id or a position id (positions are named by their entry order). `account` narrows the search to one account stream (otherwise the orders read model, then the log, find it). 404 when neither exists.',
          tags: ['audit'],
          params: {
            type: 'object',
            required: ['id'],
            properties: {
              id: {
                type: 'string',
                pattern: '^[A-Za-z0-9_.:/-]{1,36}$',
                description: 'client order id or position id',
              },
            },
          },
          querystring: { type: 'object', additionalProperties: false, properties: { account: ACCOUNT } },
          response: { 200: explanationSchema, ...problemResponses(400, 404, 503) },
        },
      },
      async (request) => {
        const { id } = request.params;
        const account = request.query.account ?? (await accountOf(deps, id)) ?? undefined;
        let explanation: Explanation;
        try {
          explanation = await explain(deps.store, id, account);
        } catch (error) {
          if (error instanceof TradekernelError && error.code === 'config') {
            throw notFound(
              `no order or trade ${id}${account ? ` on ${account}` : ''}: use a client order id or position id (/v1/orders, /v1/trades)`,
            );
          }
          throw error;
        }
        return { ...explanation, text: explanationText(explanation) };
      },
    );
  },
};
