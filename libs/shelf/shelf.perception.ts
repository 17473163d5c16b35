import type { DeviceHealthReported, ShelfEventDetected, StoreIndex } from '../contracts/index.ts';
import { InventoryModel } from './inventory.model.ts';
import { ShelfDetector } from './shelf.detector.ts';

/**
 * Shelf perception for a whole store: one streaming detector per shelf, all sharing one inventory
 * model (so a put-back on one shelf can be recognised as something picked from another).
 * Feed ticks in store-clock order across shelves; events come out through onEvent.
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
  readonly inventory: InventoryModel;
  private readonly detectors = new Map<string, ShelfDetector>();

  constructor(private readonly opts: ShelfPerceptionOptions) {
    this.inventory = new InventoryModel(opts.index);
  }

  detector(shelfId: string): ShelfDetector {
    let detector = this.detectors.get(shelfId);
    if (!detector) {
      detector = new ShelfDetector({
        index: this.opts.index,
        shelfId,
        inventory: this.inventory,
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

  /** Per shelf: samples seen, segments opened, segments that changed nothing, events. */
  stats() {
    return Object.fromEntries([...this.detectors].map(([id, d]) => [id, { ...d.stats }]));
  }
}
