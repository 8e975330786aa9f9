/** Risk: sizing, the rules that guard entries, the equity halts, and the decision events. */
export {
  defaultRiskConfig,
  kellySizing,
  RISK_RULES_VERSION,
  type RiskConfig,
  type RiskRules,
  riskNone,
  type SizingConfig,
  validateRiskConfig,
} from './config.js';
export { decideEntry, type EntryDecision, type EntryRequest, type ProtectionPlan } from './entry-decision.js';
export { type EntryBlock, EquityGuard, type EquityGuardSnapshot, type HaltBreach } from './equity-guard.js';
export {
  CHECK_OUTCOMES,
  HALT_RULES,
  type HaltRule,
  RISK_OUTCOMES,
  type RiskCheck,
  RiskDecisionMade,
  type RiskDecisionMadeData,
  type RiskOutcome,
  riskEvents,
  TradingHalted,
  type TradingHaltedData,
} from './events.js';
export { decideExit, type ExitDecision, type ExitRequest } from './exit-decision.js';
export { addTrade, emptyTradeStats, type KellyEstimate, kellyEstimate, type TradeStats } from './kelly.js';
export { alignedCorrelation, ReturnsWindow, type ReturnsWindowSnapshot } from './returns-window.js';
