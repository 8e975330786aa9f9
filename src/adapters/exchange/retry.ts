/**
 * Retries with exponential back-off and full jitter, for calls to outside systems that fail
 * transiently (network errors, timeouts, 5xx, rate limiting).
 */
export interface RetryPolicy {
  /** attempts in all, the first included (>= 1) */
  attempts: number;
  /** delay before the first retry; doubles each time */
  baseDelayMs: number;
  maxDelayMs: number;
}

export interface RetryHooks {
  /** which errors are worth another attempt */
  retryable(error: unknown): boolean;
  /** told before each wait */
  onRetry?: (info: { attempt: number; delayMs: number; error: unknown }) => void;
  sleep?: (ms: number) => Promise<void>;
  /** 0 ≤ random() < 1; default Math.random (tests pass a constant) */
  random?: () => number;
}

export class RetriesExhaustedError extends Error {
  constructor(
    readonly attempts: number,
    readonly lastError: unknown,
  ) {
    super(`gave up after ${attempts} attempts: ${(lastError as Error)?.message ?? String(lastError)}`);
    this.name = 'RetriesExhaustedError';
  }
}

/** The delay before retry number `retry` (1-based): up to base * 2^(retry-1), capped. */
export function backoffDelay(policy: RetryPolicy, retry: number, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (retry - 1));
  // Half fixed, half jitter: never hammers in lockstep, never retries at once.
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

/**
 * Runs `work` until it succeeds, a non-retryable error is thrown (rethrown as is), or the
 * attempts run out (RetriesExhaustedError holding the last error).
 */
export async function withRetry<T>(
  work: (attempt: number) => Promise<T>,
  policy: RetryPolicy,
  hooks: RetryHooks,
): Promise<T> {
  const sleep = hooks.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const attempts = Math.max(1, Math.floor(policy.attempts));
  for (let attempt = 1; ; attempt++) {
    try {
      return await work(attempt);
    } catch (error) {
      if (!hooks.retryable(error)) throw error;
      if (attempt >= attempts) throw new RetriesExhaustedError(attempt, error);
      const delayMs = backoffDelay(policy, attempt, hooks.random);
      hooks.onRetry?.({ attempt, delayMs, error });
      await sleep(delayMs);
    }
  }
}
