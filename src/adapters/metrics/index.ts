export { instrumentEventStore } from './instrumented-event-store.js';
export {
  type ExchangeRequestLabels,
  KERNEL_DECISIONS,
  type KernelDecision,
  METRIC_PREFIX,
  type MetricsOptions,
  type Outcome,
  type PortfolioSnapshot,
  type ProjectionLagSample,
  TradekernelMetrics,
} from './metrics.js';
