import { describe, expect, it } from 'vitest';
import { backoffDelay, RetriesExhaustedError, withRetry } from './retry.js';

const policy = { attempts: 4, baseDelayMs: 100, maxDelayMs: 300 };

describe('withRetry', () => {
  it('backs off exponentially with jitter, capped', () => {
    expect([1, 2, 3, 4].map((n) => backoffDelay(policy, n, () => 0))).toEqual([50, 100, 150, 150]);
    expect([1, 2, 3, 4].map((n) => backoffDelay(policy, n, () => 0.999999))).toEqual([100, 200, 300, 300]);
  });

  it('retries retryable errors until success, waiting in between', async () => {
    const waits: number[] = [];
    let calls = 0;
    const result = await withRetry(
      async () => {
        if (++calls < 3) throw new Error('flaky');
        return 'ok';
      },
      policy,
      { retryable: () => true, sleep: async (ms) => void waits.push(ms), random: () => 0 },
    );
    expect(result).toBe('ok');
    expect(waits).toEqual([50, 100]);
  });

  it('gives up after the attempts, and never retries other errors', async () => {
    const attempts: number[] = [];
    const exhausted = withRetry(
      async (n) => {
        attempts.push(n);
        throw new Error('down');
      },
      policy,
      { retryable: () => true, sleep: async () => {} },
    );
    await expect(exhausted).rejects.toBeInstanceOf(RetriesExhaustedError);
    await expect(exhausted).rejects.toThrow('gave up after 4 attempts: down');
    expect(attempts).toEqual([1, 2, 3, 4]);

    let calls = 0;
    const fatal = withRetry(
      async () => {
        calls++;
        throw new TypeError('bad');
      },
      policy,
      { retryable: (e) => !(e instanceof TypeError), sleep: async () => {} },
    );
    await expect(fatal).rejects.toThrow(TypeError);
    expect(calls).toBe(1);
  });
});
