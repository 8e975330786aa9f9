import type { Observable } from 'rxjs';
import type { RecordedEvent } from '../../domain/events/envelope.js';
import type { SubscribeOptions, Subscription } from '../../domain/ports/event-store.js';
import { subscriptionObservable } from './observable.js';

/** A page's events, decoded as they are taken; undefined after the last. */
export interface PageEvents {
  take(): RecordedEvent | undefined;
}

export interface Page {
  events: PageEvents;
  /** true when the page hit its limit: more may be waiting right now */
  full: boolean;
  /** every position up to here has been looked at (matches delivered, others filtered out) */
  scannedTo: number;
}

const MIN_POLL_MS = 5;
const MAX_POLL_MS = 500;

/**
 * Catch-up then live over a page reader: reads pages until one comes back partial (caught up),
 * then waits for a wake-up (an append here, a NOTIFY from elsewhere) or a back-off poll, and
 * reads again. Resumes after any checkpoint; the position it reports is safe to store.
 */
export class PollingSubscription implements Subscription {
  private checkpoint: number;
  private live = false;
  private stopped = false;
  private wakeWaiter: (() => void) | undefined;
  /** set by a wake-up that arrives while a page is being read, so it is not lost */
  private woken = false;
  private readonly unregister: () => void;
  private readonly pageSize: number;

  constructor(
    private readonly readPage: (after: number, limit: number) => Promise<Page>,
    register: (wake: () => void) => () => void,
    options: SubscribeOptions,
  ) {
    this.checkpoint = options.after ?? 0;
    this.pageSize = options.pageSize ?? 5000;
    this.unregister = register(() => {
      this.woken = true;
      this.wakeWaiter?.();
    });
  }

  get position(): number {
    return this.checkpoint;
  }

  get caughtUp(): boolean {
    return this.live;
  }

  async close(): Promise<void> {
    this.stopped = true;
    this.unregister();
    this.wakeWaiter?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<RecordedEvent> {
    let delay = MIN_POLL_MS;
    let next = this.read(this.checkpoint);
    while (!this.stopped) {
      const page = await next;
      const events = page.events;
      // A full page means more is waiting: ask for it now, so the database works on it while
      // this page is delivered (catch-up then uses both cores).
      if (page.full) next = this.read(page.scannedTo);
      let n = 0;
      for (let event = events.take(); event !== undefined; event = events.take()) {
        n++;
        if (this.stopped) return;
        this.checkpoint = event.position;
        yield event;
        // see PostgresEventStore.readAll: let the socket carrying the next page be read
        if (page.full && n % 256 === 0) await new Promise(setImmediate);
      }
      if (this.stopped) return;
      this.checkpoint = Math.max(this.checkpoint, page.scannedTo);
      if (page.full) {
        delay = MIN_POLL_MS;
        continue;
      }
      this.live = true;
      delay = n > 0 ? MIN_POLL_MS : Math.min(delay * 2, MAX_POLL_MS);
      await this.sleep(delay);
      next = this.read(this.checkpoint);
    }
  }

  /** Reads the page after `after`; a wake-up from now on is not lost (see sleep). */
  private read(after: number): Promise<Page> {
    this.woken = false;
    const page = this.readPage(after, this.pageSize);
    page.catch(() => {}); // awaited by the loop; a subscription closed meanwhile never sees it
    return page;
  }

  asObservable(): Observable<RecordedEvent> {
    return subscriptionObservable(this);
  }

  private sleep(ms: number): Promise<void> {
    if (this.woken || this.stopped) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wakeWaiter = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wakeWaiter = done;
    });
  }
}
