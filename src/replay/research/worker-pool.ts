/**
 * A small pool of worker threads for CPU-bound research work (optimisation trials).
 *
 * - Each worker gets `workerData` once at start. Typed arrays on a SharedArrayBuffer in it (a
 *   CandleSeries allocated with { shared: true }) are shared, not copied: every worker reads the
 *   one copy of the candles, so memory grows by a worker's own heap, not by the data.
 * - Tasks are queued and handed to the first idle worker, one at a time per worker; results come
 *   back in completion order (callers that need an order sort them: see optimizer.ts).
 * - Each worker's heap is capped (resourceLimits.maxOldGenerationSizeMb): a run that would grow
 *   without bound fails instead of taking the machine. Each result carries the worker's memory
 *   (process.memoryUsage() inside the worker: heapUsed/heapTotal are that worker's own isolate;
 *   rss is the whole process and is therefore reported by the main thread only).
 * - A task that throws rejects its promise with the error (TradekernelError subclasses keep their
 *   message, code and hint). A worker that dies fails its task and every queued one.
 *
 * Worker scripts call serveTasks(handler); workerScript() finds them (from the build or from
 * TypeScript source).
 */
import { parentPort, type ResourceLimits, type Worker } from 'node:worker_threads';
import {
  type ErrorShape,
  errorShape,
  reviveError,
  startWorker,
  type WorkerScript,
} from '../../adapters/threads/worker-thread.js';

export { type WorkerScript, workerScript } from '../../adapters/threads/worker-thread.js';

export interface MemorySample {
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
}

export interface WorkerMemory extends MemorySample {
  worker: number;
  threadId: number;
  tasks: number;
  /** the largest heapUsed seen after a task */
  heapUsedPeak: number;
}

type Response<R> =
  | { type: 'result'; id: number; result: R; memory: MemorySample }
  | { type: 'error'; id: number; error: ErrorShape };

interface Pending<T, R> {
  id: number;
  task: T;
  resolve: (result: R) => void;
  reject: (error: Error) => void;
}

export interface PoolOptions {
  size: number;
  workerData?: unknown;
  /** per-worker V8 heap cap in MiB (default 512) */
  maxHeapMb?: number;
}

export class WorkerPool<T, R> {
  private readonly workers: Worker[] = [];
  private readonly idle: number[] = [];
  private readonly inFlight = new Map<number, Pending<T, R>>();
  private readonly running: (Pending<T, R> | null)[] = [];
  private readonly queue: Pending<T, R>[] = [];
  private readonly memorySeen: WorkerMemory[] = [];
  private nextId = 0;
  private failed: Error | null = null;
  private closing = false;

  constructor(script: WorkerScript, options: PoolOptions) {
    const size = options.size;
    if (!(Number.isInteger(size) && size >= 1))
      throw new RangeError(`WorkerPool: size must be >= 1, got ${size}`);
    const limits: ResourceLimits = { maxOldGenerationSizeMb: options.maxHeapMb ?? 512 };
    for (let w = 0; w < size; w++) {
      const worker = startWorker(script, {
        workerData: options.workerData,
        resourceLimits: limits,
      });
      worker.on('message', (message: Response<R>) => this.onMessage(w, message));
      worker.on('error', (error) => this.fail(error));
      worker.on('exit', (code) => {
        if (!this.closing) this.fail(new Error(`research worker ${w} exited with code ${code}`));
      });
      this.workers.push(worker);
      this.running.push(null);
      this.idle.push(w);
      this.memorySeen.push({
        worker: w,
        threadId: worker.threadId,
        tasks: 0,
        heapUsed: 0,
        heapTotal: 0,
        external: 0,
        arrayBuffers: 0,
        heapUsedPeak: 0,
      });
    }
  }

  get size(): number {
    return this.workers.length;
  }

  run(task: T): Promise<R> {
    if (this.failed) return Promise.reject(this.failed);
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ id: this.nextId++, task, resolve, reject });
      this.dispatch();
    });
  }

  /** Memory per worker, as last reported (see the module comment). */
  memory(): WorkerMemory[] {
    return this.memorySeen.map((m) => ({ ...m }));
  }

  async close(): Promise<void> {
    this.closing = true;
    await Promise.all(this.workers.map((w) => w.terminate()));
  }

  private dispatch(): void {
    while (this.idle.length > 0 && this.queue.length > 0) {
      const w = this.idle.shift()!;
      const pending = this.queue.shift()!;
      this.running[w] = pending;
      this.inFlight.set(pending.id, pending);
      this.workers[w]!.postMessage({ type: 'task', id: pending.id, task: pending.task });
    }
  }

  private onMessage(w: number, message: Response<R>): void {
    const pending = this.inFlight.get(message.id);
    if (!pending) return;
    this.inFlight.delete(message.id);
    this.running[w] = null;
    this.idle.push(w);
    if (message.type === 'result') {
      const seen = this.memorySeen[w]!;
      seen.tasks++;
      Object.assign(seen, message.memory);
      seen.heapUsedPeak = Math.max(seen.heapUsedPeak, message.memory.heapUsed);
      pending.resolve(message.result);
    } else pending.reject(reviveError(message.error));
    this.dispatch();
  }

  private fail(error: Error): void {
    if (this.failed) return;
    this.failed = error;
    for (const p of this.running) p?.reject(error);
    for (const p of this.queue.splice(0)) p.reject(error);
    this.inFlight.clear();
  }
}

export function memorySample(): MemorySample {
  const m = process.memoryUsage();
  return { heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external, arrayBuffers: m.arrayBuffers };
}

/**
 * The worker side: answers each task with handler(task). `transfer` lists buffers to move to the
 * main thread instead of copying them.
 */
export function serveTasks<T, R>(handler: (task: T) => { result: R; transfer?: ArrayBuffer[] }): void {
  const port = parentPort;
  if (port === null) throw new Error('serveTasks: not in a worker thread');
  port.on('message', (message: { type: 'task'; id: number; task: T }) => {
    if (message?.type !== 'task') return;
    try {
      const { result, transfer } = handler(message.task);
      port.postMessage({ type: 'result', id: message.id, result, memory: memorySample() }, transfer ?? []);
    } catch (error) {
      port.postMessage({ type: 'error', id: message.id, error: errorShape(error) });
    }
  });
}
