/**
 * Native TA-Lib (the `talib` package), used as the oracle in tests only.
 *
 * talibSeries() returns every output aligned with the input: NaN before TA-Lib's first output
 * (begIndex), so tests compare index by index and the warm-up length is compared too.
 */
import { createRequire } from 'node:module';

interface TalibResult {
  begIndex: number;
  nbElement: number;
  result: Record<string, number[]>;
}

interface Talib {
  execute(request: Record<string, unknown>): TalibResult;
}

const talib = createRequire(import.meta.url)('talib') as Talib;

/**
 * inputs: TA-Lib input arrays by name (inReal, or high/low/close, or inReal0/inReal1);
 * options: the optIn* parameters. Returns each output (outReal, outMACD, ...) as a full-length
 * series.
 */
export function talibSeries(
  name: string,
  inputs: Record<string, readonly number[]>,
  options: Record<string, number>,
): Record<string, number[]> {
  const length = Object.values(inputs)[0]?.length ?? 0;
  // The node binding aborts the whole process (no exception) when asked for an empty range.
  if (length === 0) throw new Error('talibSeries: empty input would abort the process');
  const response = talib.execute({ name, startIdx: 0, endIdx: length - 1, ...inputs, ...options });
  const series: Record<string, number[]> = {};
  for (const [output, values] of Object.entries(response.result)) {
    const aligned = new Array<number>(length).fill(Number.NaN);
    for (let i = 0; i < response.nbElement; i++) aligned[response.begIndex + i] = values[i]!;
    series[output] = aligned;
  }
  return series;
}

/** Single-output helper: TA-Lib's outReal for functions that have only that. */
export function talibReal(
  name: string,
  inputs: Record<string, readonly number[]>,
  options: Record<string, number> = {},
): number[] {
  return talibSeries(name, inputs, options).outReal!;
}
