/**
 * Equity marked to the close, one point per distinct candle close time (several symbols closing
 * at the same time make one point: the last candle of that time overwrites it). Not events:
 * the curve is a pure function of the candles and the fills, so it is derived, never stored
 * (ARCHITECTURE.md). Typed arrays that double when full: a year of 1-minute candles costs
 * about 20 growths and 8 MB, and the per-candle path allocates nothing.
 */
export class EquityCurve {
  private times = new Float64Array(1024);
  private values = new Float64Array(1024);
  private size = 0;

  get length(): number {
    return this.size;
  }

  record(time: number, equity: number): void {
    const last = this.size - 1;
    if (last >= 0 && this.times[last] === time) {
      this.values[last] = equity;
      return;
    }
    if (this.size === this.times.length) this.grow();
    this.times[this.size] = time;
    this.values[this.size] = equity;
    this.size++;
  }

  /** Views of the recorded points (no copy): times are candle close times, epoch ms. */
  view(): { readonly time: Float64Array; readonly equity: Float64Array } {
    return { time: this.times.subarray(0, this.size), equity: this.values.subarray(0, this.size) };
  }

  private grow(): void {
    const times = new Float64Array(this.times.length * 2);
    const values = new Float64Array(this.values.length * 2);
    times.set(this.times);
    values.set(this.values);
    this.times = times;
    this.values = values;
  }
}
