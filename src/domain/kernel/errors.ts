import { TradekernelError } from '../errors.js';

/** Input the kernel cannot process without breaking determinism (out of order, duplicated). */
export class KernelInputError extends TradekernelError {
  constructor(message: string, hint?: string) {
    super(message, 'kernel_input', hint);
  }
}

/** A snapshot that does not belong to this kernel's configuration, or is damaged. */
export class KernelSnapshotError extends TradekernelError {
  constructor(message: string) {
    super(
      message,
      'kernel_snapshot',
      'restore with the configuration the snapshot was taken with, or rebuild the state by replaying the log',
    );
  }
}
