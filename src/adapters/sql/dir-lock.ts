import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { resolve } from 'node:path';
import { ConfigError } from '../../domain/errors.js';

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * An embedded database directory may be opened by one process at a time (PGlite has no
 * multi-process access; two writers would corrupt it). The lock file holds the owner's pid and
 * is taken over when that process is gone (a crash leaves it behind).
 */
const heldHere = new Set<string>();

export function lockDirectory(dir: string): () => void {
  mkdirSync(dir, { recursive: true });
  const path = resolve(dir, 'tradekernel.lock');
  if (heldHere.has(path)) {
    throw new ConfigError(
      `data directory ${dir} is already open in this process`,
      'open it once and share the handle',
    );
  }
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      heldHere.add(path);
      return () => {
        heldHere.delete(path);
        rmSync(path, { force: true });
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const owner = Number.parseInt(readFileSync(path, 'utf8'), 10);
      if (Number.isInteger(owner) && processAlive(owner)) {
        throw new ConfigError(
          `data directory ${dir} is in use by another tradekernel process (pid ${owner})`,
          'stop that process, or use another --data-dir; a PostgreSQL server (--store postgres) allows many processes',
        );
      }
      rmSync(path, { force: true });
    }
  }
  throw new ConfigError(`could not lock data directory ${dir}`);
}
