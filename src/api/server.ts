import { randomUUID } from 'node:crypto';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyInstance } from 'fastify';
import { TradekernelMetrics } from '../adapters/metrics/metrics.js';
import type { SqlDatabase } from '../adapters/sql/database.js';
import { ConfigError } from '../domain/errors.js';
import type { EventCatalogue } from '../domain/events/catalogue.js';
import type { EventStore } from '../domain/ports/event-store.js';
import { allProjectors, ProjectionRunner } from '../projections/index.js';
import { bearerGuard, checkToken } from './auth.js';
import { DEFAULT_MAX_LAG } from './limits.js';
import type { ApiDeps, ApiModule } from './module.js';
import { installProblemHandlers, problemSchema, sendProblem, toProblem } from './problem.js';
import type { ProjectionWorker } from './projection-worker.js';
import { apiModules } from './routes/index.js';

export interface BuildApiOptions {
  store: EventStore;
  database: SqlDatabase;
  catalogue: EventCatalogue;
  /** default: a runner over allProjectors() (the caller prepares it; serve does) */
  projections?: ProjectionRunner;
  /** the projection loop this process runs, reported by /health/ready and /v1/projections */
  worker?: ProjectionWorker;
  /** default: a new registry with process metrics */
  metrics?: TradekernelMetrics;
  /** bearer token of the control endpoints; undefined or empty: they answer 403 */
  token?: string | undefined;
  /** /health/ready fails above this projection lag in events (default 1000) */
  maxLag?: number;
  clock?: () => number;
  version?: string;
  /** Fastify's logger: false (default), true, or a pino level */
  logger?: boolean | string;
  /** default: every module (routes/index.ts) */
  modules?: readonly ApiModule[];
}

const METRICS_LAG_CAP = 10_000;

/**
 * The query API: Fastify with JSON-schema validated input, problem+json errors, an OpenAPI
 * document at /openapi.json and its docs page at /docs (served from the package: no CDN), and
 * Prometheus metrics at /metrics. Returns the instance unstarted: call `inject` or `listen`.
 */
export async function buildApi(options: BuildApiOptions): Promise<FastifyInstance> {
  const version = options.version ?? '0.0.0';
  const metrics = options.metrics ?? new TradekernelMetrics({ version });
  const projections =
    options.projections ?? new ProjectionRunner(options.database, options.store, allProjectors());
  const maxLag = options.maxLag ?? DEFAULT_MAX_LAG;
  if (!Number.isInteger(maxLag) || maxLag < 0)
    throw new ConfigError(`max lag ${maxLag} is not a whole number >= 0`);
  const deps: ApiDeps = {
    store: options.store,
    database: options.database,
    catalogue: options.catalogue,
    projections,
    worker: options.worker,
    metrics,
    guard: bearerGuard(checkToken(options.token)),
    maxLag,
    clock: options.clock ?? Date.now,
    version,
  };
  metrics.watchEventLog(() => options.store.headPosition());
  // lag counting reads the lagging events: a scrape stops at 10,000 (the gauge then means "at least")
  metrics.watchProjections(() => projections.status(METRICS_LAG_CAP));

  const app = Fastify({
    logger: typeof options.logger === 'string' ? { level: options.logger } : (options.logger ?? false),
    genReqId: () => randomUUID(),
    bodyLimit: 64 * 1024,
    // account ids may be up to 191 characters (the control stream name's limit)
    routerOptions: { maxParamLength: 200 },
    // errors the router raises before any route runs (a malformed URL): problems too
    frameworkErrors: (error, request, reply) => {
      sendProblem(request, reply, toProblem(error));
    },
    ajv: {
      customOptions: {
        // unknown parameters are refused (a 400 naming them), never silently dropped
        removeAdditional: false,
        coerceTypes: 'array',
        useDefaults: true,
        allErrors: false,
      },
    },
  });
  installProblemHandlers(app);
  // bodies are JSON only: anything else is a 415 problem
  app.removeContentTypeParser('text/plain');
  app.addSchema(problemSchema);
  app.addHook('onResponse', async (request, reply) => {
    metrics.observeHttp(
      request.method,
      request.is404 ? '(unmatched)' : (request.routeOptions.url ?? '(unmatched)'),
      reply.statusCode,
      reply.elapsedTime / 1000,
    );
  });

  const modules = options.modules ?? apiModules;
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'tradekernel API',
        version,
        description:
          'Read models of the event log, the log itself, health and control. Errors are RFC 9457 problem details (application/problem+json); lists are cursor-paginated (follow `page.next`).',
      },
      tags: modules.map((m) => m.tag),
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    },
    refResolver: { buildLocalReference: (json, _base, _fragment, i) => String(json.$id ?? `def-${i}`) },
  });
  await app.register(swaggerUi, {
    routePrefix: '/docs',
    uiConfig: { docExpansion: 'list', deepLinking: true },
    // the page's own files only: no CDN, no https upgrade (it is served over plain http on loopback)
    staticCSP:
      "default-src 'self'; base-uri 'self'; font-src 'self' data:; frame-ancestors 'self'; img-src 'self' data:; object-src 'none'; script-src 'self'; script-src-attr 'none'; style-src 'self'",
  });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  for (const module of modules) {
    await app.register(async (scope) => {
      await module.register(scope, deps);
    });
  }
  return app;
}
