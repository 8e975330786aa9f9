/**
 * The last `capacity` close-to-close returns of one symbol with their candle times, in
 * preallocated rings (an update allocates nothing). The correlation rule compares two symbols'
 * windows on the candle times they share, so symbols that started at different times, or with
 * missing candles, are compared only where both traded.
 */
export interface ReturnsWindowSnapshot {
  capacity: number;
  previousClose: number | null;
  /** oldest first */
  times: number[];
  returns: number[];
}

export class ReturnsWindow {
  private readonly times: Float64Array;
  private readonly returns: Float64Array;
  private next = 0;
  private size = 0;
  private previousClose = Number.NaN;

  constructor(readonly capacity: number) {
    this.times = new Float64Array(capacity);
    this.returns = new Float64Array(capacity);
  }

  push(openTime: number, close: number): void {
    const previous = this.previousClose;
    this.previousClose = close;
    if (Number.isNaN(previous)) return;
    this.times[this.next] = openTime;
    this.returns[this.next] = close / previous - 1;
    this.next = (this.next + 1) % this.capacity;
    if (this.size < this.capacity) this.size++;
  }

  get length(): number {
    return this.size;
  }

  /** i-th return, oldest first */
  timeAt(i: number): number {
    return this.times[(this.next - this.size + i + this.capacity) % this.capacity]!;
  }

  returnAt(i: number): number {
    return this.returns[(this.next - this.size + i + this.capacity) % this.capacity]!;
  }

  snapshot(): ReturnsWindowSnapshot {
    const times: number[] = [];
    const returns: number[] = [];
    for (let i = 0; i < this.size; i++) {
      times.push(this.timeAt(i));
      returns.push(this.returnAt(i));
    }
    return {
      capacity: this.capacity,
      previousClose: Number.isNaN(this.previousClose) ? null : this.previousClose,
      times,
      returns,
    };
  }

  static restore(snapshot: ReturnsWindowSnapshot): ReturnsWindow {
    const window = new ReturnsWindow(snapshot.capacity);
    const count = Math.min(snapshot.times.length, snapshot.capacity);
    for (let i = 0; i < count; i++) {
      window.times[i] = snapshot.times[i]!;
      window.returns[i] = snapshot.returns[i]!;
    }
    window.size = count;
    window.next = count % snapshot.capacity;
    window.previousClose = snapshot.previousClose ?? Number.NaN;
    return window;
  }
}

/**
 * Pearson correlation of two windows over the candle times present in both (two passes:
 * means, then centred sums, which stays accurate for tiny returns). Null when fewer than
 * `minSamples` times match; 0 when either series is constant there.
 */
export function alignedCorrelation(a: ReturnsWindow, b: ReturnsWindow, minSamples: number): number | null {
  let n = 0;
  let sumA = 0;
  let sumB = 0;
  forEachShared(a, b, (x, y) => {
    n++;
    sumA += x;
    sumB += y;
  });
  if (n < minSamples) return null;
  const meanA = sumA / n;
  const meanB = sumB / n;
  let saa = 0;
  let sbb = 0;
  let sab = 0;
  forEachShared(a, b, (x, y) => {
    const dx = x - meanA;
    const dy = y - meanB;
    saa += dx * dx;
    sbb += dy * dy;
    sab += dx * dy;
  });
  if (!(saa > 0 && sbb > 0)) return 0;
  return Math.max(-1, Math.min(1, sab / Math.sqrt(saa * sbb)));
}

function forEachShared(a: ReturnsWindow, b: ReturnsWindow, visit: (x: number, y: number) => void): void {
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const ta = a.timeAt(i);
    const tb = b.timeAt(j);
    if (ta === tb) {
      visit(a.returnAt(i), b.returnAt(j));
      i++;
      j++;
    } else if (ta < tb) i++;
    else j++;
  }
}
