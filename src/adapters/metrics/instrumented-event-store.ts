import type { NewEvent } from '../../domain/events/envelope.js';
import type { AppendResult, EventStore, ExpectedRevision } from '../../domain/ports/event-store.js';
import type { TradekernelMetrics } from './metrics.js';

/**
 * The event-store port with its appends counted: events written by type and the time of each
 * append. Reads pass straight through. Wrap the store once, in the composition root, so every
 * writer of the process (API control endpoints, the kernel, importers) is counted.
 */
export function instrumentEventStore(store: EventStore, metrics: TradekernelMetrics): EventStore {
  return {
    kind: store.kind,
    location: store.location,
    async append(
      stream: string,
      events: readonly NewEvent[],
      expected?: ExpectedRevision,
    ): Promise<AppendResult> {
      const start = performance.now();
      try {
        const result = await store.append(stream, events, expected);
        metrics.recordAppend(result.written ? events : [], (performance.now() - start) / 1000, 'ok');
        return result;
      } catch (error) {
        metrics.recordAppend([], (performance.now() - start) / 1000, 'error');
        throw error;
      }
    },
    readStream: (stream, options) => store.readStream(stream, options),
    streamRevision: (stream) => store.streamRevision(stream),
    readAll: (options) => store.readAll(options),
    subscribeAll: (options) => store.subscribeAll(options),
    headPosition: () => store.headPosition(),
    stats: () => store.stats(),
    close: () => store.close(),
  };
}
