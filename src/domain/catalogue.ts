import { controlEvents } from './control/events.js';
import { EventCatalogue } from './events/catalogue.js';
import { marketEvents } from './market/events.js';
import { operationsEvents } from './operations/events.js';
import { orderEvents } from './orders/events.js';
import { portfolioEvents } from './portfolio/events.js';
import { riskEvents } from './risk/events.js';
import { runEvents } from './runs/events.js';
import { strategyEvents } from './strategies/events.js';

/** Every event type tradekernel writes. Each family registers its events here. */
export function createCatalogue(): EventCatalogue {
  return new EventCatalogue([
    ...marketEvents,
    ...controlEvents,
    ...operationsEvents,
    ...strategyEvents,
    ...riskEvents,
    ...orderEvents,
    ...portfolioEvents,
    ...runEvents,
  ]);
}
