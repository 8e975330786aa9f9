/**
 * Starting worker threads from the build or from TypeScript source, and carrying errors across.
 * Used by every worker of tradekernel: the import's file preparer, the bulk candle read, the
 * optimiser's pool.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker, type WorkerOptions } from 'node:worker_threads';
import * as errors from '../../domain/errors.js';

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

export function startWorker(script: WorkerScript, options: Omit<WorkerOptions, 'eval'> = {}): Worker {
  return new Worker(script.source, { ...options, eval: script.eval });
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

/** An error as it crosses between threads (structured clone keeps no class). */
export interface ErrorShape {
  name: string;
  message: string;
  stack?: string;
  /** the error's own fields (a TradekernelError's code and hint, an InvalidEventError's issues...) */
  fields?: Record<string, unknown>;
}

export function errorShape(error: unknown): ErrorShape {
  if (!(error instanceof Error)) return { name: 'Error', message: String(error) };
  const { message: _m, stack: _s, name: _n, ...fields } = { ...error } as Record<string, unknown>;
  return {
    name: error.name,
    message: error.message,
    ...(error.stack !== undefined ? { stack: error.stack } : {}),
    ...(Object.keys(fields).length > 0 ? { fields } : {}),
  };
}

/** tradekernel's error classes by name: an error revived on this side is an instance of its class. */
const CLASSES: Record<string, { prototype: Error }> = Object.fromEntries(
  Object.entries(errors).filter(
    ([, value]) => typeof value === 'function' && value.prototype instanceof Error,
  ),
);

/** The error again on this side: one of tradekernel's keeps its class, message, code, hint and fields. */
export function reviveError(e: ErrorShape): Error {
  const known = CLASSES[e.name];
  const error: Error = known ? Object.create(known.prototype) : new Error(e.message);
  Object.assign(error, e.fields);
  Object.defineProperty(error, 'message', { value: e.message, writable: true, configurable: true });
  Object.defineProperty(error, 'name', { value: e.name, writable: true, configurable: true });
  if (e.stack) Object.defineProperty(error, 'stack', { value: e.stack, writable: true, configurable: true });
  return error;
}
