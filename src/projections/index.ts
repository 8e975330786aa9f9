import { accountsProjector } from './accounts.js';
import { candlesProjector } from './candles.js';
import { equityProjector } from './equity.js';
import { fillsProjector } from './fills.js';
import { healthProjector } from './health.js';
import { ordersProjector } from './orders.js';
import { positionsProjector } from './positions.js';
import { predictionsProjector } from './predictions.js';
import type { Projector } from './projector.js';
import { riskProjector } from './risk.js';
import { signalsProjector } from './signals.js';
import { strategiesProjector } from './strategies.js';
import { tradesProjector } from './trades.js';

/**
 * Every read model, in the order they are run and prepared. Views that read another
 * projection's tables (positions over candles and accounts, predictions over candles) come
 * after the projections they read (docs/projections.md lists the tables).
 */
export function allProjectors(): Projector[] {
  return [
    candlesProjector,
    accountsProjector,
    signalsProjector,
    predictionsProjector,
    riskProjector,
    ordersProjector,
    fillsProjector,
    positionsProjector,
    tradesProjector,
    equityProjector,
    strategiesProjector,
    healthProjector,
  ];
}

export type { Projector } from './projector.js';
export {
  type CatchUpProgress,
  ProjectionRunner,
  type ProjectionStatus,
  ProjectionStoppedError,
  type RunnerOptions,
} from './runner.js';
