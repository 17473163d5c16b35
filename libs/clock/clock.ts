/**
 * Time as services see it. Every service takes a Clock in its dependencies instead of calling
 * Date.now or setTimeout itself, so that a test can move time on by hand (`ManualClock`) and wait
 * for what the service does instead of sleeping and hoping the machine was fast enough.
 */
export interface Clock {
  /** Milliseconds since the epoch (wall clock in production). */
  now(): number;
  /** Calls `fire` every `ms` until the returned function is called. */
  every(ms: number, fire: () => void): () => void;
}

export const systemClock: Clock = Object.freeze({
  now: () => Date.now(),
  every(ms: number, fire: () => void): () => void {
    const timer = setInterval(fire, ms);
    timer.unref();
    return () => clearInterval(timer);
  },
});

interface ManualTimer {
  readonly id: number;
  at: number;
  readonly periodMs: number;
  readonly fire: () => void;
}

/**
 * A clock that moves only when a test says so. `advance(ms)` fires, in time order, every interval
 * that falls due on the way, letting promise callbacks run between them.
 */
export class ManualClock implements Clock {
  private current: number;
  private nextId = 0;
  private readonly timers = new Map<number, ManualTimer>();

  constructor(startMs = 0) {
    this.current = startMs;
  }

  now(): number {
    return this.current;
  }

  every(ms: number, fire: () => void): () => void {
    if (!(ms > 0)) throw new RangeError(`ManualClock.every: the period must be above 0 ms, got ${ms}`);
    const id = this.nextId++;
    this.timers.set(id, { id, at: this.current + ms, periodMs: ms, fire });
    return () => void this.timers.delete(id);
  }

  /** Intervals still running. */
  get pending(): number {
    return this.timers.size;
  }

  /** Moves time on by `ms`, firing what falls due in order; settles promise callbacks after each. */
  async advance(ms: number): Promise<void> {
    if (!(ms >= 0)) throw new RangeError(`ManualClock.advance: cannot move time back (${ms} ms)`);
    const target = this.current + ms;
    for (;;) {
      await settle();
      const due = [...this.timers.values()].filter((t) => t.at <= target).sort((a, b) => a.at - b.at || a.id - b.id)[0];
      if (!due) break;
      this.current = Math.max(this.current, due.at);
      due.at += due.periodMs;
      due.fire();
    }
    this.current = target;
    await settle();
  }
}

/** Lets queued promise callbacks (and what they queue in turn) run. */
async function settle(): Promise<void> {
  for (let round = 0; round < 10; round++) await new Promise<void>((resolve) => setImmediate(resolve));
}
