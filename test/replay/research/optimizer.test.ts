import { describe, expect, it } from 'vitest';
import { defaultKernelConfig } from '../../../src/domain/kernel/config.js';
import { riskNone } from '../../../src/domain/risk/config.js';
import type { RunSpec } from '../../../src/replay/research/evaluate.js';
import { optimize } from '../../../src/replay/research/optimizer.js';
import { parseParamSpecs } from '../../../src/replay/research/param-space.js';
import { fixtureSeries } from './support.js';

const spec: RunSpec = {
  strategy: 'ema-cross',
  config: defaultKernelConfig({ initialCash: 1_000, risk: riskNone(0.95) }),
};

describe('optimize', () => {
  const series = fixtureSeries(['BTC']);
  const params = parseParamSpecs(['fast=4..12:4', 'slow=10..30:10']);

  it('grid: every feasible combination, ranked by the objective, in this thread and on 2 workers alike', async () => {
    const one = await optimize({ series, spec, params, objective: 'sharpe', search: { kind: 'grid' } });
    // fast 4, 8, 12 × slow 10, 20, 30, fast < slow: 3 + 3 + 2 = 8 (12/10 is refused)
    expect(one.search).toMatchObject({ kind: 'grid', trials: 8, gridPoints: 9, feasiblePoints: 8 });
    expect(one.ranked.map((r) => r.rank)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    for (let i = 1; i < one.ranked.length; i++) {
      const a = one.ranked[i - 1]!.objective ?? Number.NEGATIVE_INFINITY;
      const b = one.ranked[i]!.objective ?? Number.NEGATIVE_INFINITY;
      expect(a).toBeGreaterThanOrEqual(b);
    }
    expect(one.ranked.every((r) => r.params.fast! < r.params.slow!)).toBe(true);
    expect(one.best?.objective).toBe(one.best?.metrics.sharpe);

    const two = await optimize({
      series,
      spec,
      params,
      objective: 'sharpe',
      search: { kind: 'grid' },
      jobs: 2,
    });
    expect(two.ranked).toEqual(one.ranked);
    expect(two.diagnostics).toEqual(one.diagnostics);
    expect(two.performance.workers).toHaveLength(2);
    expect(two.performance.workers.reduce((n, w) => n + w.tasks, 0)).toBe(8);
    for (const w of two.performance.workers) expect(w.heapUsedPeak).toBeGreaterThan(0);

    const d = one.diagnostics;
    expect(d.deflatedSharpe?.trials).toBe(8);
    expect(d.deflatedSharpe?.deflatedSharpe).toBeGreaterThanOrEqual(0);
    expect(d.deflatedSharpe?.deflatedSharpe).toBeLessThanOrEqual(1);
    // 3000 hours = 125 days: 16 blocks
    expect(d.pbo?.blocks).toBe(16);
    expect(d.pbo?.splits).toBe(12_870);
    expect(d.pbo?.pbo).toBeGreaterThanOrEqual(0);
    expect(d.pbo?.pbo).toBeLessThanOrEqual(1);
  });

  it('random and bayes: the same seed gives the same trials; another seed other trials', async () => {
    const wide = parseParamSpecs(['fast=3..20', 'slow=10..60:2']);
    for (const kind of ['random', 'bayes'] as const) {
      const run = (seed: number, jobs: number) =>
        optimize({
          series,
          spec,
          params: wide,
          objective: 'profit',
          search: { kind, trials: 14, seed, startup: 6 },
          jobs,
        });
      const a = await run(7, 1);
      const b = await run(7, 2);
      const c = await run(8, 1);
      const trials = (r: Awaited<ReturnType<typeof run>>) =>
        [...r.ranked].sort((x, y) => x.trial - y.trial).map((t) => `${t.params.fast}/${t.params.slow}`);
      expect(a.search.trials).toBe(14);
      expect(trials(a)).toEqual(trials(b));
      expect(trials(a)).not.toEqual(trials(c));
      expect(new Set(trials(a)).size).toBe(14);
      expect(a.ranked.every((r) => r.params.fast! < r.params.slow!)).toBe(true);
    }
  });

  it('refuses an unknown parameter and an empty feasible set', async () => {
    await expect(
      optimize({
        series,
        spec,
        params: parseParamSpecs(['speed=1..3']),
        objective: 'sharpe',
        search: { kind: 'grid' },
      }),
    ).rejects.toThrow(/no parameter "speed"/);
    await expect(
      optimize({
        series,
        spec,
        params: parseParamSpecs(['fast=30..40', 'slow=10..20']),
        objective: 'sharpe',
        search: { kind: 'grid' },
      }),
    ).rejects.toThrow(/no combination/);
  });
});
