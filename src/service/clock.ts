import { ConfigError } from '../domain/errors.js';

/**
 * The service's clock: a port, so the same loop runs on the wall clock (live) and on a virtual
 * clock (replay, soak). The domain never reads a clock; only the service does, through this.
 */
export interface Clock {
  now(): number;
  /** resolves at `time` (or at once when it has passed); rejects when `signal` aborts */
  sleepUntil(time: number, signal?: AbortSignal): Promise<void>;
}

export class AbortedError extends Error {
  constructor() {
    super('stopped');
    this.name = 'AbortedError';
  }
}

/** Waits `ms`; rejects with AbortedError as soon as `signal` aborts. */
export function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new AbortedError());
    const timer = setTimeout(
      () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      },
      Math.max(0, ms),
    );
    const onAbort = () => {
      clearTimeout(timer);
      reject(new AbortedError());
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export class SystemClock implements Clock {
  now(): number {
    return Date.now();
  }
  async sleepUntil(time: number, signal?: AbortSignal): Promise<void> {
    // wake at least once a minute: a laptop that slept overshoots a long timer
    while (Date.now() < time) await delay(Math.min(time - Date.now(), 60_000), signal);
  }
}

/**
 * Virtual time: starts at `start` and jumps to each time the loop sleeps until. `speed` is how
 * many virtual ms pass per real ms (3600: an hour a second); 'max' does not wait at all.
 */
export class VirtualClock implements Clock {
  private current: number;
  constructor(
    start: number,
    private readonly speed: number | 'max' = 'max',
  ) {
    this.current = start;
  }
  now(): number {
    return this.current;
  }
  async sleepUntil(time: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) throw new AbortedError();
    if (time <= this.current) return;
    if (this.speed !== 'max') await delay((time - this.current) / this.speed, signal);
    else await new Promise((r) => setImmediate(r));
    this.current = time;
  }
}

export function parseSpeed(value: string): number | 'max' {
  if (value === 'max') return 'max';
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0)
    throw new ConfigError(
      `--speed: "${value}" is not a positive number or max`,
      'e.g. --speed 3600 or --speed max',
    );
  return n;
}
