/**
 * Typed arrays kept for reuse, by length. The camera stage cuts windows of a few sizes thousands of
 * times a minute and hands each to a detector thread as bytes; an array made new for each is memory
 * outside the JavaScript heap that the garbage collector must notice and free, and in `walkout start`
 * that collection took about a third of the main thread's busy time
 * (docs/experiments/start-at-store-speed.md). An array taken holds what its last user wrote: the
 * taker writes every element before reading it.
 */

/** Arrays kept of each length: enough for the windows of the frames read at once. */
const KEEP_PER_LENGTH = 16;

export class ArrayPool<T extends Int32Array | Uint8Array> {
  private readonly free = new Map<number, T[]>();

  constructor(
    private readonly make: (length: number) => T,
    private readonly keepPerLength = KEEP_PER_LENGTH,
  ) {}

  /** An array of `length` elements, one given back earlier if there is one (its old contents in it). */
  take(length: number): T {
    return this.free.get(length)?.pop() ?? this.make(length);
  }

  /** An array its taker no longer reads or writes; one transferred to another thread (detached) is let go. */
  give(array: T): void {
    if (array.byteLength === 0) return;
    const free = this.free.get(array.length) ?? [];
    if (free.length < this.keepPerLength) free.push(array);
    this.free.set(array.length, free);
  }

  /** Arrays kept now, of every length. */
  get kept(): number {
    let count = 0;
    for (const free of this.free.values()) count += free.length;
    return count;
  }
}
