import { WalkoutError, type ChangeReexplained, type DeviceHealthReported, type ShelfEventDetected, type StoreIndex } from '../contracts/index.ts';
import { mergeSnapshots, ShelfInventory, type InventorySnapshot } from './inventory.model.ts';
import { ShelfDetector } from './shelf.detector.ts';

/**
 * Shelf perception for a whole store: one streaming detector per shelf, each with its own state only
 * (the shelf's inventory), as the shelf partitions of the bus require. Feed each shelf's ticks in
 * store-clock order; how the shelves interleave makes no difference. Events come out through onEvent.
 */

/** What every shelf event detector offers: the real one and the baseline both. */
export interface ShelfEventSource {
  push(shelfId: string, ts: number, grams: ArrayLike<number>): void;
  finish(): void;
}

export interface ShelfPerceptionOptions {
  index: StoreIndex;
  onEvent(event: ShelfEventDetected): void;
  onHealth?(report: DeviceHealthReported): void;
}

export class ShelfPerception implements ShelfEventSource {
  private readonly detectors = new Map<string, ShelfDetector>();

  constructor(private readonly opts: ShelfPerceptionOptions) {}

  detector(shelfId: string): ShelfDetector {
    let detector = this.detectors.get(shelfId);
    if (!detector) {
      detector = new ShelfDetector({
        index: this.opts.index,
        shelfId,
        onEvent: this.opts.onEvent,
        onHealth: this.opts.onHealth,
      });
      this.detectors.set(shelfId, detector);
    }
    return detector;
  }

  push(shelfId: string, ts: number, grams: ArrayLike<number>): void {
    this.detector(shelfId).push(ts, grams);
  }

  finish(): void {
    for (const detector of this.detectors.values()) detector.finish();
  }

  /**
   * Fusion's reading of a change of several items (ShelfDetector.reread): each of its events moves
   * its likeliest product. False when the change's shelf was not this perception's to change.
   */
  reread(message: ChangeReexplained): boolean {
    const detector = this.detectors.get(message.shelfId);
    if (!detector) return false;
    const items = message.events.flatMap((event) => {
      const [likeliest] = event.hypotheses;
      return likeliest ? [{ shelfEventId: event.shelfEventId, kind: event.kind, laneId: event.laneIds[0], productId: likeliest.productId, quantity: likeliest.quantity }] : [];
    });
    return detector.reread(message.replaces, items);
  }

  /**
   * Throws unless every event of fusion's reading lies on a lane of its shelf (one of this store's):
   * a reading that cannot be taken is refused when it comes, not once its events are made.
   */
  checkReread(message: ChangeReexplained): void {
    const shelf = this.opts.index.shelves.get(message.shelfId)?.shelf;
    if (!shelf) return;
    for (const event of message.events)
      if (event.hypotheses.length > 0 && !shelf.lanes.some((lane) => lane.id === event.laneIds[0]))
        throw new WalkoutError('MESSAGE_INVALID', `fusion's reading ${message.eventId} puts ${event.shelfEventId} on lane ${event.laneIds[0]}, which shelf ${message.shelfId} does not have`);
  }

  /** Whether a re-reading of these events of the shelf was taken already (ShelfDetector.rereadTaken). */
  rereadTaken(message: ChangeReexplained): boolean {
    return this.detectors.get(message.shelfId)?.rereadTaken(message.replaces) ?? false;
  }

  /** Drops the shelf's detector: the next tick of the shelf starts a fresh one, from the planogram. */
  forget(shelfId: string): void {
    this.detectors.delete(shelfId);
  }

  /** What the shelves hold: one shelf, or every shelf of the store (those not seen yet as planned). */
  inventory(shelfId?: string): InventorySnapshot {
    const shelfIds = shelfId === undefined ? [...this.opts.index.shelves.keys()] : [shelfId];
    return mergeSnapshots(shelfIds.map((id) => (this.detectors.get(id)?.inventory ?? new ShelfInventory(this.opts.index, id)).snapshot()));
  }

  /** Per shelf: samples seen, segments opened, segments that changed nothing, events. */
  stats() {
    return Object.fromEntries([...this.detectors].map(([id, d]) => [id, { ...d.stats }]));
  }
}
