/** Incremental technical indicators: O(1) per update, snapshot/restore, checked against TA-Lib. */
export { Atr, type AtrSnapshot, trueRangeOf } from './atr.js';
export { Bollinger, type BollingerSnapshot } from './bollinger.js';
export { Ema, type EmaSnapshot } from './ema.js';
export { IndicatorParameterError, IndicatorSnapshotError } from './errors.js';
export { Macd, type MacdSnapshot } from './macd.js';
export { RollingCorrelation, type RollingCorrelationSnapshot } from './rolling-correlation.js';
export { RollingStdDev, type RollingStdDevSnapshot } from './rolling-std-dev.js';
export { Rsi, type RsiSnapshot } from './rsi.js';
export { Sma, type SmaSnapshot } from './sma.js';
