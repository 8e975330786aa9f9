import { readFileSync } from 'node:fs';

/** The kernel version recorded in results and audit exports: the package version. */
export const KERNEL_VERSION: string = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;
