import { randomUUID } from 'node:crypto';
import {
  type ControlActionData,
  KillSwitchEngaged,
  LiquidationRequested,
  TradingPaused,
  TradingResumed,
} from '../../domain/control/events.js';
import { type EventDefinition, newEvent } from '../../domain/events/catalogue.js';
import type { RecordedEvent } from '../../domain/events/envelope.js';
import { deterministicId } from '../../domain/events/ids.js';
import type { ApiModule } from '../module.js';
import { ApiProblem, notFound, problemResponses } from '../problem.js';
import { POSITION } from '../schemas.js';

/**
 * Control actions (pause, resume, kill switch, liquidation), appended as events to the
 * account's control stream. They need the bearer token; without a configured token they are
 * disabled. An `Idempotency-Key` header makes a retry return the first append instead of
 * recording the action twice.
 */

const ACTIONS: { path: string; event: EventDefinition<string, ControlActionData>; summary: string }[] = [
  { path: 'pause', event: TradingPaused, summary: 'Pause trading: no new decisions until resumed' },
  { path: 'resume', event: TradingResumed, summary: 'Resume trading after a pause or a kill switch' },
  {
    path: 'kill-switch',
    event: KillSwitchEngaged,
    summary: 'Engage the kill switch: no new orders of any kind',
  },
  {
    path: 'liquidate',
    event: LiquidationRequested,
    summary: 'Request emergency liquidation of every open position',
  },
];

/** The control stream of an account: `control-<account>`. */
export const controlStream = (account: string) => `control-${account}`;

const DEFAULT_ACTOR = 'api';
/** text without NUL characters (PostgreSQL cannot store them) */
const NO_NUL = '^[^\\u0000]*$';

interface ControlBody {
  actor?: string;
  reason: string;
}

const acceptedSchema = {
  type: 'object',
  required: ['id', 'type', 'stream', 'revision', 'position', 'occurredAt', 'duplicate'],
  properties: {
    id: { type: 'string', format: 'uuid', description: 'the event id' },
    type: { type: 'string' },
    stream: { type: 'string' },
    revision: { type: 'integer' },
    position: { ...POSITION, description: 'the global position of the event' },
    occurredAt: { type: 'integer', description: 'epoch ms' },
    duplicate: {
      type: 'boolean',
      description: 'true when the Idempotency-Key matched an earlier request: nothing new was appended',
    },
  },
} as const;

export const controlModule: ApiModule = {
  name: 'control',
  tag: {
    name: 'control',
    description:
      'Pause, resume, kill switch, liquidation: appended as events to `control-<account>`. Need `Authorization: Bearer <TRADEKERNEL_API_TOKEN>`.',
  },
  register(app, deps) {
    for (const action of ACTIONS) {
      app.post<{ Params: { account: string }; Body: ControlBody; Headers: { 'idempotency-key'?: string } }>(
        `/v1/accounts/:account/${action.path}`,
        {
          // before the body is even parsed: unauthenticated requests learn nothing about the input
          onRequest: async (request) => deps.guard(request),
          schema: {
            summary: action.summary,
            description: `Appends ${action.event.type} to \`control-<account>\` and answers 202 with the event's id and position.`,
            tags: ['control'],
            security: [{ bearer: [] }],
            params: {
              type: 'object',
              required: ['account'],
              properties: {
                account: {
                  type: 'string',
                  pattern: '^[A-Za-z0-9][A-Za-z0-9_.:-]{0,190}$',
                  description: 'account id (letters, digits, _ . : -)',
                },
              },
            },
            headers: {
              type: 'object',
              properties: {
                'idempotency-key': {
                  type: 'string',
                  pattern: '^[\\x21-\\x7e]{1,200}$',
                  description: 'any unique string: a retry with the same key returns the first result',
                },
              },
            },
            body: {
              type: 'object',
              required: ['reason'],
              additionalProperties: false,
              properties: {
                actor: {
                  type: 'string',
                  minLength: 1,
                  maxLength: 200,
                  pattern: NO_NUL,
                  description: `who acts (default "${DEFAULT_ACTOR}")`,
                },
                reason: {
                  type: 'string',
                  minLength: 1,
                  maxLength: 2_000,
                  pattern: NO_NUL,
                  description: 'why',
                },
              },
            },
            response: { 202: acceptedSchema, ...problemResponses(400, 401, 403, 404, 409, 415, 503) },
          },
        },
        async (request, reply) => {
          const { account } = request.params;
          // a typo, or a stream that is no trading account, would record an action that no
          // service ever takes
          if (!/^(paper|live)-/.test(account) || (await deps.store.streamRevision(account)) < 0)
            throw notFound(`no trading account ${account} (paper-<name>): /v1/accounts lists them`);
          const data: ControlActionData = {
            account,
            actor: request.body.actor ?? DEFAULT_ACTOR,
            reason: request.body.reason,
          };
          const stream = controlStream(account);
          const key = request.headers['idempotency-key'];
          const occurredAt = deps.clock();
          const id = key ? deterministicId(0, 'api-control', account, action.event.type, key) : randomUUID();
          const result = await deps.store.append(stream, [newEvent(action.event, id, data, { occurredAt })]);
          let stored = { occurredAt, data };
          if (!result.written) {
            // a retry: answer with what the first request recorded, unless it asked for something else
            const [first] = await collect(
              deps.store.readStream(stream, { fromRevision: result.nextExpectedRevision, maxCount: 1 }),
            );
            const firstData = first?.data as ControlActionData | undefined;
            if (!first || firstData?.reason !== data.reason || firstData.actor !== data.actor) {
              throw new ApiProblem(
                409,
                'idempotency-key-reused',
                'Idempotency key reused',
                'this Idempotency-Key was used for a request with another actor or reason; use a new key',
              );
            }
            stored = { occurredAt: first.metadata.occurredAt, data: firstData };
          }
          return reply.code(202).send({
            id,
            type: action.event.type,
            stream,
            revision: result.nextExpectedRevision,
            position: result.position,
            occurredAt: stored.occurredAt,
            duplicate: !result.written,
          });
        },
      );
    }
  },
};

async function collect(source: AsyncIterable<RecordedEvent>): Promise<RecordedEvent[]> {
  const out: RecordedEvent[] = [];
  for await (const event of source) out.push(event);
  return out;
}
