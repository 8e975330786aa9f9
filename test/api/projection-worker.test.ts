import { describe, expect, it } from 'vitest';
import { ProjectionWorker } from '../../src/api/projection-worker.js';
import type { ProjectionRunner } from '../../src/projections/index.js';

/** The worker's failure and recovery callbacks (the service alerts on them once each). */
describe('ProjectionWorker', () => {
  it('reports every failed run, and the first success after failures once', async () => {
    // a database that is away for two runs, then back
    const outcomes = [3, 'down', 'down', 2, 0, 'down', 1];
    const runner = {
      catchUp: async () => {
        const next = outcomes.shift();
        if (next === 'down') throw new Error('connection refused');
        return next as number;
      },
    } as unknown as ProjectionRunner;
    const seen: string[] = [];
    const worker = new ProjectionWorker(runner, {
      onError: (e) => seen.push(`error: ${(e as Error).message}`),
      onRecovered: () => seen.push('recovered'),
    });
    const applied: number[] = [];
    for (let i = 0; i < 7; i++) applied.push(await worker.runOnce());
    expect(applied).toEqual([3, 0, 0, 2, 0, 0, 1]);
    expect(seen).toEqual([
      'error: connection refused',
      'error: connection refused',
      'recovered',
      'error: connection refused',
      'recovered',
    ]);
    expect(worker.state).toMatchObject({ failing: false, lastError: null, applied: 6 });
  });
});
