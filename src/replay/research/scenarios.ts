/**
 * Stress scenarios: the crashes of the crypto market as named date ranges (UTC, candles opening
 * in [from, to)). Each range starts at the BTC/USDT high before the fall and ends after the
 * bottom and the first rebound; the highs and lows quoted are Binance BTC/USDT 1h candles of the
 * shared data set (docs/research.md has the table).
 *
 * `--scenario <name>` sets the period of a run to the preset: `backtest` (instead of --from/--to,
 * never together with them), `stress` and `optimize`; research runs warm their indicators on the
 * candles before `from` without trading (--warmup).
 */
import { ConfigError } from '../../domain/errors.js';

export interface Scenario {
  readonly name: string;
  readonly title: string;
  /** ISO dates, UTC */
  readonly from: string;
  readonly to: string;
  readonly description: string;
  /** false when the shared data set (binance-spot/freqtrade-1h, to 2022-10-11) does not reach it */
  readonly inSharedData: boolean;
}

export const SCENARIOS: readonly Scenario[] = [
  {
    name: 'covid-2020',
    title: 'COVID crash, March 2020',
    from: '2020-02-13',
    to: '2020-04-01',
    description:
      'BTC 10,500 (2020-02-13) to 3,782 on 2020-03-13 after "Black Thursday" (2020-03-12), back near 6,400 by the end of March',
    inSharedData: true,
  },
  {
    name: 'may-2021',
    title: 'May 2021 crash',
    from: '2021-05-08',
    to: '2021-06-01',
    description:
      'BTC 59,500 (2021-05-08) to 30,000 on 2021-05-19 (Tesla stops BTC payments, China mining and trading bans), 37,000 at the end of May',
    inSharedData: true,
  },
  {
    name: 'luna-2022',
    title: 'Terra/LUNA collapse, May 2022',
    from: '2022-05-04',
    to: '2022-06-01',
    description:
      'UST loses its peg (2022-05-07..12): BTC 40,024 (2022-05-04) to 26,700 on 2022-05-12, 31,700 at the end of May',
    inSharedData: true,
  },
  {
    name: 'ftx-2022',
    title: 'FTX collapse, November 2022',
    from: '2022-11-05',
    to: '2022-12-01',
    description:
      'Binance sells its FTT (2022-11-06), FTX halts withdrawals (11-08) and files for bankruptcy (11-11): BTC from about 21,000 to about 15,500 (2022-11-21). Past the end of the shared data set: download the candles first',
    inSharedData: false,
  },
];

export const SCENARIO_NAMES = SCENARIOS.map((s) => s.name);

/** One preset by name, or every preset for `all`; a comma list works too. */
export function resolveScenarios(text: string, flag = '--scenario'): Scenario[] {
  const names = text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (names.length === 1 && names[0] === 'all') return [...SCENARIOS];
  return names.map((name) => {
    const found = SCENARIOS.find((s) => s.name === name);
    if (!found)
      throw new ConfigError(
        `${flag}: "${name}" is not a scenario`,
        `use ${SCENARIO_NAMES.join(', ')} or all`,
      );
    return found;
  });
}

/** The preset's [from, to) in epoch ms. */
export function scenarioRange(scenario: Scenario): { from: number; to: number } {
  return { from: Date.parse(`${scenario.from}T00:00:00Z`), to: Date.parse(`${scenario.to}T00:00:00Z`) };
}
