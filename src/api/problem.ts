import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { TradekernelError } from '../domain/errors.js';

/**
 * Errors as RFC 9457 problem details (`application/problem+json`): every error the API sends,
 * expected or not, has `type`, `title`, `status`, `detail` and `instance`. Types are tag URIs
 * (RFC 4151: absolute, never dereferenced) listed in docs/api.md; the slug after `problems/` is
 * also sent as `code` for clients that switch on it.
 */

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';
const TYPE_BASE = 'tag:tradekernel,2025:problems/';

export const problemType = (code: string) => `${TYPE_BASE}${code}`;

export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance: string;
  code: string;
  [extension: string]: unknown;
}

/** One bad input field: where it was and what was wrong. */
export interface FieldIssue {
  /** `querystring`, `params`, `body` or `headers` */
  in: string;
  /** the field's name, or a JSON pointer into the body (`reason`, `/items/0/price`) */
  field: string;
  message: string;
}

/** Throw from a handler (or hook) to answer with that problem. */
export class ApiProblem extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly title: string,
    readonly detail: string,
    readonly extensions: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(detail);
    this.name = 'ApiProblem';
  }
}

export const badRequest = (field: string, detail: string, where = 'querystring') =>
  new ApiProblem(400, 'invalid-request', 'Invalid request', detail, {
    errors: [{ in: where, field, message: detail }] satisfies FieldIssue[],
  });

export const notFound = (detail: string) => new ApiProblem(404, 'not-found', 'Not found', detail);

/** JSON schema of a problem document, for route responses and the OpenAPI document. */
export const problemSchema = {
  $id: 'Problem',
  type: 'object',
  description: 'RFC 9457 problem details; extra members depend on the type (see docs/api.md).',
  required: ['type', 'title', 'status', 'detail', 'instance'],
  properties: {
    type: { type: 'string', description: 'URI of the problem type (tag:tradekernel,2025:problems/<code>)' },
    title: { type: 'string', description: 'short summary of the problem type' },
    status: { type: 'integer', description: 'the HTTP status code' },
    detail: { type: 'string', description: 'what went wrong in this occurrence, and the fix' },
    instance: { type: 'string', description: 'the request path of this occurrence' },
    code: { type: 'string', description: 'the problem type slug' },
    requestId: { type: 'string' },
    errors: {
      type: 'array',
      description: 'validation problems: one entry per bad field',
      items: {
        type: 'object',
        properties: { in: { type: 'string' }, field: { type: 'string' }, message: { type: 'string' } },
      },
    },
  },
  additionalProperties: true,
} as const;

/** `response` entries for the given statuses, for a route schema. */
export function problemResponses(...statuses: number[]): Record<number, unknown> {
  const out: Record<number, unknown> = {};
  for (const status of statuses) {
    out[status] = {
      description: STATUS_TEXT[status] ?? 'Problem',
      content: { [PROBLEM_CONTENT_TYPE]: { schema: { $ref: 'Problem#' } } },
    };
  }
  return out;
}

const STATUS_TEXT: Record<number, string> = {
  400: 'Invalid request (the problem names the bad field)',
  401: 'Missing or wrong bearer token',
  403: 'Control endpoints are disabled (no token configured)',
  404: 'Not found',
  409: 'Conflict',
  415: 'Unsupported media type',
  503: 'Not ready or a dependency is unavailable',
};

export function sendProblem(request: FastifyRequest, reply: FastifyReply, problem: ApiProblem): FastifyReply {
  const body: ProblemDetails = {
    ...problem.extensions,
    type: problemType(problem.code),
    title: problem.title,
    status: problem.status,
    detail: problem.detail,
    instance: request.url.split('?')[0] ?? request.url,
    code: problem.code,
    requestId: request.id,
  };
  for (const [name, value] of Object.entries(problem.headers)) reply.header(name, value);
  return reply.code(problem.status).type(PROBLEM_CONTENT_TYPE).send(body);
}

/** Installs the error and not-found handlers that turn everything into problem documents. */
export function installProblemHandlers(app: FastifyInstance): void {
  app.setNotFoundHandler((request, reply) =>
    sendProblem(
      request,
      reply,
      notFound(
        `no route ${request.method} ${request.url.split('?')[0]}: the routes are listed in /openapi.json`,
      ),
    ),
  );
  app.setErrorHandler((error: FastifyError | Error, request, reply) => {
    const problem = toProblem(error);
    if (problem.status >= 500) request.log.error({ err: error }, 'request failed');
    return sendProblem(request, reply, problem);
  });
}

/** Maps any error to a problem; anything unexpected becomes a 500 that hides its internals. */
export function toProblem(error: unknown): ApiProblem {
  if (error instanceof ApiProblem) return error;
  const fastifyError = error as Partial<FastifyError> & { validationContext?: string };
  if (fastifyError.validation) {
    const issues = fastifyError.validation.map((v) =>
      fieldIssue(v, fastifyError.validationContext ?? 'input'),
    );
    const first = issues[0]!;
    return new ApiProblem(
      400,
      'invalid-request',
      'Invalid request',
      `${first.in} ${first.field}: ${first.message}${issues.length > 1 ? ` (and ${issues.length - 1} more)` : ''}`,
      { errors: issues },
    );
  }
  if (error instanceof TradekernelError) return domainProblem(error);
  const status = fastifyError.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return new ApiProblem(
      status,
      fastifyErrorCode(fastifyError.code, status),
      titleOf(status),
      fastifyError.message ?? 'bad request',
    );
  }
  const unavailable = unavailableProblem(error);
  if (unavailable) return unavailable;
  return new ApiProblem(
    500,
    'internal',
    'Internal error',
    'the server failed to answer (a bug): the server log has the details under this requestId',
  );
}

function fieldIssue(
  v: { instancePath?: string; keyword?: string; params?: Record<string, unknown>; message?: string },
  where: string,
): FieldIssue {
  const params = v.params ?? {};
  const base = (v.instancePath ?? '').replace(/^\//, '').replaceAll('/', '.');
  let field = base;
  let message = v.message ?? 'is invalid';
  if (typeof params.missingProperty === 'string') {
    field = base ? `${base}.${params.missingProperty}` : params.missingProperty;
    message = 'is required';
  } else if (typeof params.additionalProperty === 'string') {
    field = base ? `${base}.${params.additionalProperty}` : params.additionalProperty;
    message = 'is not a known parameter';
  } else if (v.keyword === 'enum' && Array.isArray(params.allowedValues)) {
    message = `must be one of ${params.allowedValues.join(', ')}`;
  }
  return { in: where, field: field || where, message };
}

function domainProblem(error: TradekernelError): ApiProblem {
  const detail = error.hint ? `${error.message} (${error.hint})` : error.message;
  switch (error.code) {
    case 'wrong_expected_revision':
    case 'duplicate_event_id':
      return new ApiProblem(409, 'conflict', 'Conflict', detail);
    case 'invalid_event':
      return new ApiProblem(422, 'invalid-event', 'Invalid event', detail);
    case 'unavailable':
    case 'projection_stopped':
      return new ApiProblem(503, 'unavailable', 'Service unavailable', detail);
    default:
      return new ApiProblem(500, 'internal', 'Internal error', detail);
  }
}

/** Database errors that mean "not there right now" rather than a bug. */
function unavailableProblem(error: unknown): ApiProblem | null {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return null;
  if (code === '42P01' || code === '3F000') {
    return new ApiProblem(
      503,
      'read-model-missing',
      'Read model not ready',
      'a read-model table does not exist yet: run `tradekernel projections run` (or `tradekernel serve`, which prepares them)',
    );
  }
  if (/^(08|57P)/.test(code) || ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE'].includes(code)) {
    return new ApiProblem(503, 'unavailable', 'Service unavailable', 'the database is unreachable');
  }
  return null;
}

function fastifyErrorCode(code: string | undefined, status: number): string {
  if (code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return 'unsupported-media-type';
  if (code === 'FST_ERR_CTP_BODY_TOO_LARGE') return 'body-too-large';
  if (status === 404) return 'not-found';
  return 'invalid-request';
}

function titleOf(status: number): string {
  switch (status) {
    case 400:
      return 'Invalid request';
    case 401:
      return 'Unauthorized';
    case 403:
      return 'Forbidden';
    case 404:
      return 'Not found';
    case 405:
      return 'Method not allowed';
    case 406:
      return 'Not acceptable';
    case 413:
      return 'Payload too large';
    case 415:
      return 'Unsupported media type';
    default:
      return 'Bad request';
  }
}
