import type { TradekernelMetrics } from '../adapters/metrics/metrics.js';
import { type ProjectionRunner, ProjectionStoppedError } from '../projections/index.js';

export interface WorkerState {
  running: boolean;
  /** true while the last run failed (cleared by the next successful run) */
  failing: boolean;
  lastError: string | null;
  /** wall-clock time (epoch ms) of the last successful run, null before the first */
  lastRunAt: number | null;
  /** events applied since the worker started */
  applied: number;
}

export interface WorkerOptions {
  /** pause between runs when nothing failed, ms (default 250) */
  intervalMs?: number;
  /** pause after a failed run, ms (default 5000) */
  retryMs?: number;
  metrics?: TradekernelMetrics;
  /** after every failed run */
  onError?: (error: unknown) => void;
  /** after the first successful run that follows a failed one */
  onRecovered?: () => void;
}

/**
 * Keeps the projections up to date while the API serves: catch up, then poll. A failed run is
 * retried after a pause (a lost database connection heals itself); a projection that stopped
 * on an event it cannot apply keeps failing, its lag grows and /health/ready says why.
 */
export class ProjectionWorker {
  private stopped = false;
  private loop: Promise<void> | null = null;
  private wakeUp: (() => void) | null = null;
  private readonly current: WorkerState = {
    running: false,
    failing: false,
    lastError: null,
    lastRunAt: null,
    applied: 0,
  };

  constructor(
    private readonly runner: ProjectionRunner,
    private readonly options: WorkerOptions = {},
  ) {}

  get state(): Readonly<WorkerState> {
    return { ...this.current };
  }

  start(): void {
    if (this.loop) return;
    this.stopped = false;
    this.current.running = true;
    this.loop = this.run();
  }

  /** Lets the current run finish its batch (a transaction), then returns. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wakeUp?.();
    await this.loop;
    this.loop = null;
    this.current.running = false;
  }

  /** One catch-up now (tests, and callers that just appended). */
  async runOnce(): Promise<number> {
    try {
      const applied = await this.runner.catchUp();
      this.current.applied += applied;
      const recovered = this.current.failing;
      this.current.failing = false;
      this.current.lastError = null;
      this.current.lastRunAt = Date.now();
      if (recovered) this.options.onRecovered?.();
      return applied;
    } catch (error) {
      this.current.failing = true;
      this.current.lastError = (error as Error)?.message ?? String(error);
      const projection = error instanceof ProjectionStoppedError ? error.projection : 'all';
      this.options.metrics?.recordProjectionError(projection);
      this.options.onError?.(error);
      return 0;
    }
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      await this.runOnce();
      if (this.stopped) break;
      await this.sleep(
        this.current.failing ? (this.options.retryMs ?? 5_000) : (this.options.intervalMs ?? 250),
      );
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wakeUp = done;
    });
  }
}
