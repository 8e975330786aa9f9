import type { ApiModule } from '../module.js';
import { accountsModule } from './accounts.js';
import { backtestsModule } from './backtests.js';
import { controlModule } from './control.js';
import { equityModule } from './equity.js';
import { eventsModule } from './events.js';
import { explainModule } from './explain.js';
import { marketDataModule } from './market-data.js';
import { operationsModule } from './operations.js';
import { ordersModule } from './orders.js';
import { positionsModule } from './positions.js';
import { predictionsModule } from './predictions.js';
import { riskModule } from './risk.js';
import { signalsModule } from './signals.js';
import { strategiesModule } from './strategies.js';
import { tradesModule } from './trades.js';

/**
 * Every route module of the API, in the order of the OpenAPI document. A new read model is one
 * module here (see docs/api.md, "Adding an endpoint").
 */
export const apiModules: readonly ApiModule[] = [
  operationsModule,
  accountsModule,
  positionsModule,
  ordersModule,
  tradesModule,
  equityModule,
  signalsModule,
  riskModule,
  strategiesModule,
  predictionsModule,
  backtestsModule,
  explainModule,
  marketDataModule,
  eventsModule,
  controlModule,
];
