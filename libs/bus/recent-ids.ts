/**
 * The event ids a consumer handled lately, for at-least-once delivery: a redelivered message is
 * one whose id is still here. Bounded: past `capacity` ids the oldest is forgotten, so memory stays
 * flat on an endless stream (a redelivery comes soon after the original, or after a restart, when
 * this set is empty anyway and the consumer's own idempotence must hold).
 */
export class RecentIds {
  private readonly ids = new Set<string>();

  constructor(readonly capacity = 4096) {}

  has(id: string): boolean {
    return this.ids.has(id);
  }

  /** Remembers an id; false when it was already remembered. */
  add(id: string): boolean {
    if (this.ids.has(id)) return false;
    this.ids.add(id);
    if (this.ids.size > this.capacity) this.ids.delete(this.ids.values().next().value!);
    return true;
  }
}
