import { Observable } from 'rxjs';
import type { RecordedEvent } from '../../domain/events/envelope.js';
import type { Subscription } from '../../domain/ports/event-store.js';

/** A subscription's events as an Observable; unsubscribing closes the subscription. */
export function subscriptionObservable(
  subscription: Pick<Subscription, 'close'> & AsyncIterable<RecordedEvent>,
): Observable<RecordedEvent> {
  return new Observable<RecordedEvent>((subscriber) => {
    const iterator = subscription[Symbol.asyncIterator]();
    (async () => {
      try {
        for (;;) {
          const next = await iterator.next();
          if (next.done || subscriber.closed) break;
          subscriber.next(next.value);
        }
        subscriber.complete();
      } catch (error) {
        subscriber.error(error);
      }
    })();
    return () => {
      void subscription.close();
    };
  });
}
