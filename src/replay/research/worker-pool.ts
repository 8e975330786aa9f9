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
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parentPort, type ResourceLimits, Worker } from 'node:worker_threads';
import { TradekernelError } from '../../domain/errors.js';

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

interface ErrorShape {
  name: string;
  message: string;
  code?: string;
  hint?: string;
  stack?: string;
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

/** How to start a worker script: a file URL, or (from TypeScript source) a bootstrap to eval. */
export interface WorkerScript {
  readonly source: URL | string;
  readonly eval: boolean;
}

/**
 * The worker script `name` next to `base` (a module's import.meta.url). From the build it is
 * dist/.../<name>.js. From source (.ts, under tsx or vitest) Node cannot load it by itself, and a
 * worker's execArgv does not take `--import`: the worker evals a two-line bootstrap that
 * registers tsx's ESM loader (tsx/esm/api) and then imports <name>.ts.
 */
export function workerScript(base: string, name: string): WorkerScript {
  if (!base.endsWith('.ts')) return { source: new URL(`./${name}.js`, base), eval: false };
  const tsx = tsxEsmApi(base);
  const script = new URL(`./${name}.ts`, base).href;
  return {
    source: `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(script)}); });`,
    eval: true,
  };
}

/** tsx's ESM register API as a file URL (the package's "import" export of tsx/esm/api). */
function tsxEsmApi(base: string): string {
  const manifest = createRequire(base).resolve('tsx/package.json');
  const exports = JSON.parse(readFileSync(manifest, 'utf8')).exports as Record<
    string,
    { import: { default: string } }
  >;
  return pathToFileURL(join(dirname(manifest), exports['./esm/api']!.import.default)).href;
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
      const worker = new Worker(script.source, {
        eval: script.eval,
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

function reviveError(e: ErrorShape): Error {
  const error = e.code !== undefined ? new TradekernelError(e.message, e.code, e.hint) : new Error(e.message);
  error.name = e.name;
  if (e.stack) error.stack = e.stack;
  return error;
}

function errorShape(error: unknown): ErrorShape {
  if (error instanceof TradekernelError)
    return {
      name: error.name,
      message: error.message,
      code: error.code,
      ...(error.hint !== undefined ? { hint: error.hint } : {}),
      ...(error.stack !== undefined ? { stack: error.stack } : {}),
    };
  if (error instanceof Error)
    return {
      name: error.name,
      message: error.message,
      ...(error.stack !== undefined ? { stack: error.stack } : {}),
    };
  return { name: 'Error', message: String(error) };
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
