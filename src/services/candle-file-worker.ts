import { parentPort } from 'node:worker_threads';
import { type PrepareJob, prepareCandleFile, transferList } from './candle-file-preparer.js';

/**
 * Worker entry: prepares candle files for the import. Jobs run concurrently (file reads overlap
 * decoding); the main thread bounds how many are in flight and matches answers by `seq`.
 */
const port = parentPort;
if (!port) throw new Error('candle-file-worker runs as a worker thread');

port.on('message', async ({ seq, job }: { seq: number; job: PrepareJob }) => {
  try {
    const result = await prepareCandleFile(job);
    port.postMessage({ seq, result }, transferList(result));
  } catch (error) {
    port.postMessage({ seq, bug: (error as Error)?.stack ?? String(error) });
  }
});
