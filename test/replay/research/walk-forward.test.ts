import { describe, expect, it } from 'vitest';
import { defaultKernelConfig } from '../../../src/domain/kernel/config.js';
import { riskNone } from '../../../src/domain/risk/config.js';
import { type RunSpec, runWindow } from '../../../src/replay/research/evaluate.js';
import { parseParamSpecs, strategyWith } from '../../../src/replay/research/param-space.js';
import { parseDuration, walkForward, walkForwardWindows } from '../../../src/replay/research/walk-forward.js';
import { fixtureSeries } from './support.js';

const DAY = 86_400_000;

describe('walk-forward windows', () => {
  it('tile the period: train, then test, stepping by the test length', () => {
    const w = walkForwardWindows(0, 100 * DAY, 30 * DAY, 20 * DAY);
    expect(w.map((x) => [x.train.from / DAY, x.train.to / DAY, x.test.from / DAY, x.test.to / DAY])).toEqual([
      [0, 30, 30, 50],
      [20, 50, 50, 70],
      [40, 70, 70, 90],
      [60, 90, 90, 100],
    ]);
    const anchored = walkForwardWindows(0, 100 * DAY, 30 * DAY, 20 * DAY, 20 * DAY, true);
    expect(anchored.map((x) => x.train.from)).toEqual([0, 0, 0, 0]);
    expect(anchored.at(-1)!.train.to).toBe(90 * DAY);
    expect(() => walkForwardWindows(0, 20 * DAY, 30 * DAY, 10 * DAY)).toThrow(/too short/);
  });

  it('parses durations', () => {
    expect(parseDuration('180d', '--train')).toBe(180 * DAY);
    expect(parseDuration('12h', '--test')).toBe(12 * 3_600_000);
    expect(parseDuration('2w', '--test')).toBe(14 * DAY);
    expect(() => parseDuration('30 days', '--test')).toThrow(/not a duration/);
  });
});

describe('walk-forward', () => {
  const series = fixtureSeries(['BTC']);
  const first = series.columns[0]!.openTime[0]!;
  const from = Math.ceil(first / DAY) * DAY; // 2017-08-18 00:00
  const spec: RunSpec = {
    strategy: 'ema-cross',
    config: defaultKernelConfig({ initialCash: 1_000, risk: riskNone(0.95) }),
  };
  const params = parseParamSpecs(['fast=4..12:4', 'slow=20..40:10']);

  it('optimises each train window, trades the test window fresh, and stitches the equity', async () => {
    const r = await walkForward({
      series,
      spec,
      params,
      objective: 'sharpe',
      search: { kind: 'grid' },
      from,
      to: from + 120 * DAY,
      trainMs: 30 * DAY,
      testMs: 15 * DAY,
    });
    expect(r.windows).toHaveLength(6);
    expect(r.summary.windows).toBe(6);
    for (const [k, w] of r.windows.entries()) {
      expect(w.trials).toBe(9);
      expect(w.test.from).toBe(w.train.to);
      if (k > 0) expect(w.startEquity).toBe(r.windows[k - 1]!.endEquity);
      // the test result is a fresh run, warmed on the train window, with the train winner
      const alone = runWindow(
        series,
        {
          ...spec,
          config: { ...spec.config, initialCash: w.startEquity },
          from: w.test.from,
          to: w.test.to,
          warmupCandles: 30 * 24,
        },
        strategyWith('ema-cross', w.params),
      );
      expect(alone.metrics).toEqual(w.outOfSample.metrics);
    }
    // no trade opens before its window's test start
    for (const t of r.stitched.trades)
      expect(t.entryTime).toBeGreaterThanOrEqual(r.windows[t.window]!.test.from);
    // the stitched curve covers the test windows only, from the first test start
    expect(r.stitched.equity.time[0]).toBe(r.windows[0]!.test.from + 3_600_000);
    expect(r.stitched.metrics.startEquity).toBe(1_000);
    expect(r.stitched.metrics.endEquity).toBeCloseTo(r.windows.at(-1)!.endEquity, 6);
    const ratio = r.windows.map((w) => w.efficiency);
    expect(ratio.length).toBe(6);
    if (r.summary.meanInSample !== null && r.summary.meanInSample > 0)
      expect(r.summary.efficiency).toBeCloseTo(r.summary.meanOutOfSample! / r.summary.meanInSample, 12);
  });

  it('gives the same result on 2 workers', async () => {
    const run = (jobs: number) =>
      walkForward({
        series,
        spec,
        params,
        objective: 'profit',
        search: { kind: 'random', trials: 4, seed: 3 },
        from,
        to: from + 90 * DAY,
        trainMs: 40 * DAY,
        testMs: 25 * DAY,
        jobs,
      });
    const [a, b] = [await run(1), await run(2)];
    expect(b.windows).toEqual(a.windows);
    expect(b.comparable).toBe('cagr');
    expect(b.jobs).toBe(2);
  });
});
