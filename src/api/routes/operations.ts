import type { ApiDeps, ApiModule } from '../module.js';
import { ApiProblem, problemResponses } from '../problem.js';
import { POSITION } from '../schemas.js';

/** Health, readiness, projection status and Prometheus metrics. */

/** Lag counting stops here for /v1/projections (counting is a read of the lagging events). */
const LAG_CAP = 100_000;
const CHECK_TIMEOUT_MS = 2_000;

const projectionSchema = {
  type: 'object',
  required: ['name', 'version', 'position', 'events', 'lastEventAt', 'lag', 'lagCapped'],
  properties: {
    name: { type: 'string' },
    version: { type: 'integer' },
    position: { ...POSITION, description: 'checkpoint: the position of the last event applied' },
    events: { type: 'integer', description: 'events applied since the last rebuild' },
    lastEventAt: { type: ['integer', 'null'], description: 'occurredAt of the last event applied' },
    lag: { type: 'integer', description: 'events of its types stored after the checkpoint' },
    lagCapped: {
      type: 'boolean',
      description: 'true when counting stopped at the cap: the lag is at least this',
    },
  },
} as const;

const workerSchema = {
  type: ['object', 'null'],
  description: 'the projection loop of this process (null when it runs none)',
  properties: {
    running: { type: 'boolean' },
    failing: { type: 'boolean' },
    lastError: { type: ['string', 'null'] },
    lastRunAt: { type: ['integer', 'null'] },
    applied: { type: 'integer' },
  },
} as const;

function withTimeout<T>(work: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${what} did not answer within ${CHECK_TIMEOUT_MS} ms`)),
      CHECK_TIMEOUT_MS,
    );
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

interface Checks {
  store: { ok: boolean; head: number | null; error: string | null };
  projections: { name: string; lag: number; ok: boolean }[];
  worker: { ok: boolean; error: string | null } | null;
}

async function readiness(deps: ApiDeps): Promise<{ ready: boolean; checks: Checks; reasons: string[] }> {
  const reasons: string[] = [];
  const checks: Checks = { store: { ok: true, head: null, error: null }, projections: [], worker: null };
  try {
    checks.store.head = await withTimeout(deps.store.headPosition(), 'the event store');
  } catch (error) {
    checks.store = { ok: false, head: null, error: (error as Error).message };
    reasons.push(`event store unreachable: ${(error as Error).message}`);
  }
  try {
    const status = await withTimeout(deps.projections.status(deps.maxLag + 1), 'the read-model database');
    for (const s of status) {
      const ok = s.lag <= deps.maxLag;
      checks.projections.push({ name: s.name, lag: s.lag, ok });
      if (!ok) reasons.push(`projection ${s.name} lags more than ${deps.maxLag} events behind the log`);
    }
  } catch (error) {
    reasons.push(`projection status unavailable: ${(error as Error).message}`);
  }
  if (deps.worker) {
    const state = deps.worker.state;
    checks.worker = { ok: state.running && !state.failing, error: state.lastError };
    if (!state.running) reasons.push('the projection worker is not running');
    else if (state.failing) reasons.push(`the projection worker is failing: ${state.lastError}`);
  }
  return { ready: reasons.length === 0, checks, reasons };
}

export const operationsModule: ApiModule = {
  name: 'operations',
  tag: { name: 'operations', description: 'Health, readiness, projections and metrics.' },
  register(app, deps) {
    app.get(
      '/health/live',
      {
        schema: {
          summary: 'Liveness: the process answers',
          tags: ['operations'],
          response: {
            200: {
              type: 'object',
              properties: { status: { type: 'string', enum: ['ok'] }, uptimeSeconds: { type: 'number' } },
            },
          },
        },
      },
      async () => ({ status: 'ok', uptimeSeconds: Math.round(process.uptime()) }),
    );

    app.get(
      '/health/ready',
      {
        schema: {
          summary: 'Readiness: the store answers and no projection lags more than the threshold',
          description: `503 (a problem naming each failed check) when the event store does not answer within ${CHECK_TIMEOUT_MS} ms, a projection lags more events than the configured maximum (\`--max-lag\`), or the projection worker is failing.`,
          tags: ['operations'],
          response: {
            200: {
              type: 'object',
              properties: {
                status: { type: 'string', enum: ['ready'] },
                checks: { type: 'object', additionalProperties: true },
              },
            },
            ...problemResponses(503),
          },
        },
      },
      async () => {
        const { ready, checks, reasons } = await readiness(deps);
        if (!ready) {
          throw new ApiProblem(503, 'not-ready', 'Not ready', reasons.join('; '), {
            checks,
          });
        }
        return { status: 'ready', checks };
      },
    );

    app.get(
      '/v1/projections',
      {
        schema: {
          summary: 'Each projection: version, checkpoint, events applied, lag behind the log',
          tags: ['operations'],
          response: {
            200: {
              type: 'object',
              required: ['data', 'head', 'worker'],
              properties: {
                data: { type: 'array', items: projectionSchema },
                head: { ...POSITION, description: 'the highest position in the log' },
                worker: workerSchema,
              },
            },
            ...problemResponses(503),
          },
        },
      },
      async () => {
        const [status, head] = await Promise.all([
          deps.projections.status(LAG_CAP),
          deps.store.headPosition(),
        ]);
        return {
          data: status.map((s) => ({ ...s, lagCapped: s.lag >= LAG_CAP })),
          head,
          worker: deps.worker ? deps.worker.state : null,
        };
      },
    );

    app.get(
      '/metrics',
      {
        schema: {
          summary: 'Prometheus metrics (text exposition format)',
          description: 'Metric names are listed in docs/api.md.',
          tags: ['operations'],
        },
      },
      async (_request, reply) => {
        const body = await deps.metrics.render();
        return reply.type(deps.metrics.contentType).send(body);
      },
    );
  },
};
