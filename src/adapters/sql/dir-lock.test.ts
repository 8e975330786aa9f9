import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { lockDirectory } from './dir-lock.js';

describe('data directory lock', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tk-lock-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('lets one holder in at a time and releases on unlock', () => {
    const unlock = lockDirectory(dir);
    expect(readFileSync(join(dir, 'tradekernel.lock'), 'utf8')).toBe(String(process.pid));
    expect(() => lockDirectory(dir)).toThrow(/already open in this process/);
    unlock();
    lockDirectory(dir)();
  });

  it('refuses a directory held by another live process, naming its pid', () => {
    writeFileSync(join(dir, 'tradekernel.lock'), String(process.ppid));
    expect(() => lockDirectory(dir)).toThrow(`in use by another tradekernel process (pid ${process.ppid})`);
  });

  it('takes over the lock of a process that died (a crash leaves it behind)', () => {
    writeFileSync(join(dir, 'tradekernel.lock'), '999999999');
    const unlock = lockDirectory(dir);
    expect(readFileSync(join(dir, 'tradekernel.lock'), 'utf8')).toBe(String(process.pid));
    unlock();
  });
});
