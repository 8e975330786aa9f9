/**
 * The last `capacity` values in a preallocated ring, so an update never allocates.
 *
 * It also counts how many of the latest values are identical. When that run covers the whole
 * window the market is flat, and rolling statistics can answer exactly (standard deviation 0,
 * mean = the price) instead of the last-bit residue that running sums leave behind after the
 * volatile values have left the window.
 */
export class SlidingWindow {
  private readonly values: Float64Array;
  /** slot the next value goes to, which once full is also the oldest value's slot */
  private nextSlot = 0;
  private size = 0;
  private identicalRun = 0;

  constructor(readonly capacity: number) {
    this.values = new Float64Array(capacity);
  }

  get full(): boolean {
    return this.size === this.capacity;
  }

  /** The value the next push() evicts; only meaningful when full. */
  get oldest(): number {
    return this.values[this.nextSlot]!;
  }

  get newest(): number {
    return this.values[(this.nextSlot + this.capacity - 1) % this.capacity]!;
  }

  /** Full, and every value in it equal (===). */
  get constant(): boolean {
    return this.identicalRun >= this.capacity;
  }

  push(x: number): void {
    const continuesRun = this.size > 0 && x === this.newest;
    this.identicalRun = continuesRun ? Math.min(this.identicalRun + 1, this.capacity) : 1;
    this.values[this.nextSlot] = x;
    this.nextSlot = (this.nextSlot + 1) % this.capacity;
    if (this.size < this.capacity) this.size++;
  }

  reset(): void {
    this.nextSlot = 0;
    this.size = 0;
    this.identicalRun = 0;
  }

  /** Oldest first. Allocates: for snapshots only. */
  toArray(): number[] {
    const out: number[] = [];
    const start = this.full ? this.nextSlot : 0;
    for (let i = 0; i < this.size; i++) out.push(this.values[(start + i) % this.capacity]!);
    return out;
  }

  /** Refills from toArray() output; the identical-value run is recomputed from the values. */
  refill(valuesOldestFirst: readonly number[]): void {
    this.reset();
    for (const x of valuesOldestFirst) this.push(x);
  }
}
