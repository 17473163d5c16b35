/**
 * At most `capacity` items of a stream of any length, spread evenly over it, for pictures: every
 * `stride`-th item is kept, and when the kept items fill the capacity every other one goes and the
 * stride doubles. A picture of a long recording then needs no more memory than one of a short one,
 * and never more points than it can show.
 */
export class ThinnedSeries<T> {
  private kept: T[] = [];
  private stride = 1;
  private seen = 0;
  private last: T | undefined;

  constructor(private readonly capacity: number) {
    if (!(capacity >= 2)) throw new RangeError(`a thinned series keeps at least 2 items, asked for ${capacity}`);
  }

  push(item: T): void {
    if (this.seen % this.stride === 0) {
      this.kept.push(item);
      if (this.kept.length >= this.capacity) {
        this.kept = this.kept.filter((_, i) => i % 2 === 0);
        this.stride *= 2;
      }
    }
    this.seen++;
    this.last = item;
  }

  /** The kept items in order, ending with the last item seen (a line ends where the stream ended). */
  items(): T[] {
    if (this.last === undefined || this.kept[this.kept.length - 1] === this.last) return this.kept;
    return [...this.kept, this.last];
  }
}
