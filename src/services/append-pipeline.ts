/**
 * Runs appends one after another in the background, so that the caller can prepare the next
 * batch (read and parse files, build events) while the store writes the previous one. The
 * caller bounds the queue with `settle`, which also rethrows the first failure. After a failure
 * every queued append is dropped: a later batch of a stream must never be written when an
 * earlier one was not.
 */
export class AppendPipeline {
  private tail: Promise<void> = Promise.resolve();
  private queued = 0;
  private failure: { error: unknown } | null = null;
  private waiters: (() => void)[] = [];

  /** Queues `work` after every append queued before it. */
  enqueue(work: () => Promise<void>): void {
    this.queued++;
    this.tail = this.tail.then(async () => {
      try {
        if (!this.failure) await work();
      } catch (error) {
        this.failure ??= { error };
      } finally {
        this.queued--;
        const waiters = this.waiters;
        this.waiters = [];
        for (const wake of waiters) wake();
      }
    });
  }

  /** Appends queued or running. */
  get pending(): number {
    return this.queued;
  }

  get failed(): boolean {
    return this.failure !== null;
  }

  /** Waits until at most `maxPending` appends are queued or running; throws the first failure. */
  async settle(maxPending = 0): Promise<void> {
    while (this.queued > maxPending) await new Promise<void>((resolve) => this.waiters.push(resolve));
    if (this.failure) throw this.failure.error;
  }
}
