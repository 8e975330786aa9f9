/** The trading kernel: one account, single writer, advancing on event time. See trading-kernel.ts. */
export { defaultKernelConfig, type KernelConfig, type KernelContext } from './config.js';
export { NO_EVENTS } from './emitter.js';
export { KernelInputError, KernelSnapshotError } from './errors.js';
export { KERNEL_SNAPSHOT_FORMAT, type KernelSnapshot } from './snapshot.js';
export { type KernelStatus, type PositionView, TradingKernel } from './trading-kernel.js';
