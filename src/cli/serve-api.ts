import { instrumentEventStore } from '../adapters/metrics/instrumented-event-store.js';
import { TradekernelMetrics } from '../adapters/metrics/metrics.js';
import { ProjectionWorker } from '../api/projection-worker.js';
import { buildApi } from '../api/server.js';
import { UnavailableError } from '../domain/errors.js';
import { allProjectors, ProjectionRunner } from '../projections/index.js';
import type { GlobalFlags } from './commands/shared.js';
import { withContext } from './context.js';
import { KERNEL_VERSION } from './version.js';

export interface ServeOptions {
  host: string;
  port: number;
  maxLag: number;
  logLevel: string;
  /** bearer token of the control endpoints (TRADEKERNEL_API_TOKEN); undefined disables them */
  token?: string | undefined;
  /** ends the server (the command wires SIGINT and SIGTERM to it) */
  stop: AbortSignal;
  /** called once the server listens, with its base URL */
  onListening?: (url: string) => void;
}

/**
 * Runs the API until `stop` aborts: opens the context, prepares the projections and keeps them
 * running (catch up, then poll) in the background, listens, and on stop closes in order: the
 * listener (in-flight requests finish), the projection worker (its batch commits), the store.
 */
export async function serve(flags: GlobalFlags, options: ServeOptions): Promise<void> {
  await withContext(flags, async (ctx) => {
    const metrics = new TradekernelMetrics({ version: KERNEL_VERSION });
    const store = instrumentEventStore(ctx.store, metrics);
    const projections = new ProjectionRunner(ctx.database, store, allProjectors());
    await projections.prepare();
    const worker = new ProjectionWorker(projections, {
      metrics,
      onError: (error) => app.log.error({ err: error }, 'projection run failed; retrying'),
    });
    const app = await buildApi({
      store,
      database: ctx.database,
      catalogue: ctx.catalogue,
      projections,
      worker,
      metrics,
      token: options.token,
      maxLag: options.maxLag,
      version: KERNEL_VERSION,
      logger: options.logLevel,
    });
    worker.start();
    try {
      if (options.stop.aborted) return;
      let url: string;
      try {
        url = await app.listen({ host: options.host, port: options.port });
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL') {
          throw new UnavailableError(
            `cannot listen on ${options.host}:${options.port}: ${code}`,
            'pick another --port (or --host), or stop the process that holds it',
          );
        }
        throw error;
      }
      options.onListening?.(url);
      await new Promise<void>((resolve) => {
        if (options.stop.aborted) resolve();
        else options.stop.addEventListener('abort', () => resolve(), { once: true });
      });
    } finally {
      await app.close();
      await worker.stop();
    }
  });
}
