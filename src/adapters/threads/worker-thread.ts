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
  /** the error's own fields that survive structured clone (a code and hint, an InvalidEventError's issues...) */
  fields?: Record<string, unknown>;
  /**
   * The nearest class of domain/errors.ts it is an instance of (itself, or the class a subclass
   * defined elsewhere extends: MissingDataError is a ConfigError), so it is revived as one.
   */
  base?: string;
}

export function errorShape(error: unknown): ErrorShape {
  if (!(error instanceof Error)) return { name: 'Error', message: String(error) };
  const fields: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(error)) {
    if (key === 'message' || key === 'stack' || key === 'name') continue;
    // a field postMessage cannot copy (a function, a symbol) would make the reply itself throw
    if (cloneable(value)) fields[key] = value;
  }
  return {
    name: error.name,
    message: error.message,
    ...(error.stack !== undefined ? { stack: error.stack } : {}),
    ...(Object.keys(fields).length > 0 ? { fields } : {}),
    ...(baseOf(error) ? { base: baseOf(error) } : {}),
  };
}

function baseOf(error: Error): string | undefined {
  for (
    let p = Object.getPrototypeOf(error);
    p !== null && p !== Error.prototype;
    p = Object.getPrototypeOf(p)
  ) {
    const name = (p.constructor as { name?: string } | undefined)?.name;
    if (name !== undefined && CLASSES[name]?.prototype === p) return name;
  }
  return undefined;
}

function cloneable(value: unknown): boolean {
  try {
    structuredClone(value);
    return true;
  } catch {
    return false;
  }
}

/** The classes of domain/errors.ts by name: an error revived on this side is an instance of its class. */
const CLASSES: Record<string, { prototype: Error }> = Object.fromEntries(
  Object.entries(errors).filter(
    ([, value]) => typeof value === 'function' && value.prototype instanceof Error,
  ),
);

/**
 * The error again on this side, with its name, message, stack and fields: an instance of its
 * class of domain/errors.ts (see ErrorShape.base), else a plain Error.
 */
export function reviveError(e: ErrorShape): Error {
  const error = new Error(e.message);
  const prototype = e.base !== undefined ? CLASSES[e.base]?.prototype : undefined;
  if (prototype) Object.setPrototypeOf(error, prototype);
  Object.assign(error, e.fields);
  error.name = e.name;
  if (e.stack) error.stack = e.stack;
  return error;
}
